"""A service adds its own instrument, validated like the built-in ones."""

import pytest
from django.core.management import CommandError, call_command

from alliance.measures import services
from alliance.measures.models import InstrumentLicence, ServiceInstrument

OWN = """\
code: sleepq
name: SleepQ
title: Sleep quality check
kind: questionnaire
licensed: false
licence: Written by Riverside; free to use.
scoring:
  answer: option_index
  options_per_item: 3
  reverse_keyed: []
  mean: false
scales:
  often:
    - {value: 0, score: 0, label: Never}
    - {value: 1, score: 1, label: Sometimes}
    - {value: 2, score: 2, label: Often}
items:
  - {key: q1, text: I wake in the night, scale: often}
  - {key: q2, text: I feel tired in the day, scale: often}
"""


class TestInstrumentAdd:
    def test_it_adds_a_valid_instrument_to_the_service(self, riverside, tmp_path, capsys):
        path = tmp_path / "sleepq.yaml"
        path.write_text(OWN)
        call_command("instrument", "add", "--service", "riverside", str(path))
        assert "Added SleepQ (sleepq, 2 items)" in capsys.readouterr().out
        assert "sleepq" in services.service_instruments(riverside)

    def test_it_refuses_a_malformed_file_and_adds_nothing(self, riverside, tmp_path):
        path = tmp_path / "bad.yaml"
        path.write_text(OWN.replace("scale: often}\n  - {key: q2", "scale: nope}\n  - {key: q2"))
        with pytest.raises(CommandError) as error:
            call_command("instrument", "add", "--service", "riverside", str(path))
        assert "bad.yaml" in str(error.value) and "items[0]" in str(error.value)
        assert not ServiceInstrument.objects.exists()

    def test_it_refuses_to_replace_a_built_in_instrument(self, riverside, tmp_path):
        path = tmp_path / "phq9.yaml"
        path.write_text(OWN.replace("code: sleepq", "code: phq9"))
        with pytest.raises(CommandError) as error:
            call_command("instrument", "add", "--service", "riverside", str(path))
        assert "phq9 is a built-in instrument" in str(error.value)
        assert not ServiceInstrument.objects.exists()

    def test_it_names_an_unknown_service(self, db, tmp_path):
        with pytest.raises(CommandError) as error:
            call_command("instrument", "add", "--service", "nowhere", str(tmp_path / "x.yaml"))
        assert "No service is called nowhere" in str(error.value)


class TestLicenceCommand:
    def test_it_records_a_licence(self, riverside, ada):
        call_command("instrument", "licence", "--service", "riverside", "epds")
        assert InstrumentLicence.objects.get().recorded_by == ada.user
