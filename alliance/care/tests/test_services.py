"""Starting episodes and tailoring plans: the rules, the refusals, the audit trail."""

import pytest
from django.core.exceptions import ValidationError

from alliance.audit.models import AuditEntry
from alliance.care import selectors, services
from alliance.care.models import Episode, Homework, ModuleAssignment
from alliance.care.plans import ModuleState
from alliance.conftest import assignment, make_programme


def states(episode):
    return {r.module.key: r.state.state for r in selectors.plan_rows(episode)}


class TestEpisodeStart:
    def test_it_lays_out_every_module_in_order(self, episode):
        keys = list(episode.assignments.order_by("position").values_list("module__key", flat=True))
        assert keys == ["start", "active", "thoughts", "extra"]
        assert states(episode)["start"] == ModuleState.AVAILABLE
        assert states(episode)["active"] == ModuleState.LOCKED

    def test_it_refuses_a_second_active_episode(self, episode, alice, programme, sam):
        with pytest.raises(ValidationError) as error:
            services.episode_start(
                patient=alice,
                programme=programme,
                care_model="blended",
                supporter=sam,
                actor=sam.user,
            )
        assert "already has an active episode" in str(error.value.message_dict["programme"])
        assert Episode.objects.filter(patient=alice).count() == 1

    def test_it_refuses_an_addon_as_programme(self, alice, addon, sam):
        with pytest.raises(ValidationError) as error:
            services.episode_start(
                patient=alice, programme=addon, care_model="blended", supporter=sam, actor=sam.user
            )
        assert "Add-on modules cannot" in str(error.value.message_dict["programme"])
        assert not Episode.objects.exists()

    def test_it_refuses_a_supporter_of_another_team(self, alice, programme, priya, sam):
        with pytest.raises(ValidationError) as error:
            services.episode_start(
                patient=alice,
                programme=programme,
                care_model="blended",
                supporter=priya,
                actor=sam.user,
            )
        assert "care team" in str(error.value.message_dict["supporter"])
        assert not Episode.objects.exists()

    def test_it_refuses_an_unknown_care_model(self, alice, programme, sam):
        with pytest.raises(ValidationError) as error:
            services.episode_start(
                patient=alice,
                programme=programme,
                care_model="telepathy",
                supporter=sam,
                actor=sam.user,
            )
        assert "care_model" in error.value.message_dict
        assert not Episode.objects.exists()

    def test_it_keeps_the_version_it_started_with(self, episode, programme):
        make_programme(key=programme.key, version=2)
        episode.refresh_from_db()
        assert episode.programme.version == 1
        assert {a.module.programme_id for a in episode.assignments.all()} == {programme.pk}


class TestTailoring:
    def test_it_waives_a_mandatory_module_only_with_a_reason(self, episode, sam):
        module = assignment(episode, "active")
        with pytest.raises(ValidationError) as error:
            services.plan_waive(assignment=module, reason="  ", actor=sam.user)
        assert "Write why" in str(error.value.message_dict["reason"])
        module.refresh_from_db()
        assert module.waived_at is None
        services.plan_waive(assignment=module, reason="Already very active", actor=sam.user)
        assert states(episode)["active"] == ModuleState.WAIVED
        entry = AuditEntry.objects.get(what="plan: waive mandatory module")
        assert entry.detail["reason"] == "Already very active"
        assert entry.actor == sam.user

    def test_it_refuses_to_skip_a_mandatory_module(self, episode, sam):
        module = assignment(episode, "start")
        with pytest.raises(ValidationError) as error:
            services.plan_skip(assignment=module, actor=sam.user)
        assert "mandatory" in str(error.value.message_dict["action"])
        module.refresh_from_db()
        assert module.skipped_at is None

    def test_it_refuses_to_waive_an_optional_module(self, episode, sam):
        module = assignment(episode, "thoughts")
        with pytest.raises(ValidationError):
            services.plan_waive(assignment=module, reason="x", actor=sam.user)
        module.refresh_from_db()
        assert module.waived_at is None

    def test_it_skips_and_reinstates_an_optional_module(self, episode, sam):
        module = assignment(episode, "thoughts")
        services.plan_skip(assignment=module, actor=sam.user)
        assert states(episode)["thoughts"] == ModuleState.SKIPPED
        services.plan_reinstate(assignment=module, actor=sam.user)
        assert states(episode)["thoughts"] == ModuleState.LOCKED

    def test_it_unlocks_a_module_early(self, episode, sam):
        services.plan_unlock(assignment=assignment(episode, "extra"), actor=sam.user)
        assert states(episode)["extra"] == ModuleState.AVAILABLE

    def test_it_moves_a_module_and_shifts_the_others(self, episode, sam):
        services.plan_move(assignment=assignment(episode, "extra"), position=1, actor=sam.user)
        order = list(episode.assignments.order_by("position").values_list("module__key", flat=True))
        assert order == ["extra", "start", "active", "thoughts"]
        assert list(
            episode.assignments.order_by("position").values_list("position", flat=True)
        ) == [1, 2, 3, 4]

    def test_it_refuses_a_position_outside_the_plan(self, episode, sam):
        with pytest.raises(ValidationError) as error:
            services.plan_move(assignment=assignment(episode, "extra"), position=9, actor=sam.user)
        assert "from 1 to 4" in str(error.value.message_dict["position"])
        assert assignment(episode, "extra").position == 4

    def test_it_adds_an_addon_unlocked_at_the_end(self, episode, addon, sam):
        module = addon.modules.get(key="sleep")
        services.plan_add_addon(episode=episode, module=module, actor=sam.user)
        added = assignment(episode, "sleep")
        assert added.position == 5 and added.is_addon
        assert states(episode)["sleep"] == ModuleState.AVAILABLE

    def test_it_refuses_the_same_addon_twice(self, episode, addon, sam):
        module = addon.modules.get(key="sleep")
        services.plan_add_addon(episode=episode, module=module, actor=sam.user)
        with pytest.raises(ValidationError):
            services.plan_add_addon(episode=episode, module=module, actor=sam.user)
        assert episode.assignments.count() == 5

    def test_it_refuses_a_programme_module_as_addon(self, episode, programme, sam):
        other = make_programme(key="other")
        with pytest.raises(ValidationError):
            services.plan_add_addon(episode=episode, module=other.modules.first(), actor=sam.user)
        assert episode.assignments.count() == 4

    def test_it_closes_the_plan_when_the_episode_ends(self, episode, sam):
        services.episode_end(episode=episode, reason="completed", actor=sam.user)
        with pytest.raises(ValidationError) as error:
            services.plan_unlock(assignment=assignment(episode, "extra"), actor=sam.user)
        assert "ended" in str(error.value.message_dict["episode"])
        assert assignment(episode, "extra").unlocked_at is None


class TestPageProgress:
    def test_it_completes_a_module_once_and_adds_its_homework_once(self, episode):
        module = assignment(episode, "start")
        for page in (1, 2, 3, 3):
            services.page_complete(
                assignment=module, page_number=page, page_count=3, state=ModuleState.AVAILABLE
            )
        module.refresh_from_db()
        assert module.completed_at is not None
        assert list(Homework.objects.values_list("text", flat=True)) == ["Practise start"]
        assert states(episode)["active"] == ModuleState.AVAILABLE

    def test_it_refuses_progress_in_a_locked_module(self, episode):
        module = assignment(episode, "active")
        with pytest.raises(ValidationError) as error:
            services.page_complete(
                assignment=module, page_number=1, page_count=2, state=ModuleState.LOCKED
            )
        assert "not open yet" in str(error.value.message_dict["page"])
        assert ModuleAssignment.objects.get(pk=module.pk).pages_done == 0
