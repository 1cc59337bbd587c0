/* The coding page, progressively enhanced: a text selection fills in the passage's
   start and end (Unicode codepoints, as the server counts), and keys 1-9 tick the first
   nine codes. Without this file the form works with positions or quoted words. */
(function () {
  "use strict";

  var text = document.getElementById("document-text");
  var form = document.getElementById("coding-form");
  if (!text || !form) {
    return;
  }
  var start = form.querySelector("input[name=start]");
  var end = form.querySelector("input[name=end]");
  var quote = form.querySelector("input[name=quote]");
  var whole = form.querySelector("input[name=whole]");
  var status = document.getElementById("selection-status");

  function codepoints(value) {
    return Array.from(value).length;
  }

  function segmentOf(node) {
    while (node && node !== text) {
      if (node.nodeType === 1 && node.hasAttribute("data-start")) {
        return node;
      }
      node = node.parentNode;
    }
    return null;
  }

  // The codepoint offset in the whole text of a DOM boundary point (node, offset).
  function offsetOf(node, offset) {
    if (node === text) {
      var child = text.childNodes[offset];
      if (child) {
        return parseInt(child.getAttribute("data-start"), 10);
      }
      return parseInt(text.getAttribute("data-length"), 10);
    }
    var segment = segmentOf(node);
    if (!segment) {
      return null;
    }
    var base = parseInt(segment.getAttribute("data-start"), 10);
    if (node.nodeType === 3) {
      return base + codepoints(node.data.slice(0, offset));
    }
    return base + (offset > 0 ? codepoints(segment.textContent) : 0);
  }

  function update() {
    var selection = window.getSelection();
    if (!selection || selection.rangeCount === 0) {
      return;
    }
    var range = selection.getRangeAt(0);
    if (range.collapsed || !text.contains(range.startContainer) || !text.contains(range.endContainer)) {
      return;
    }
    var from = offsetOf(range.startContainer, range.startOffset);
    var to = offsetOf(range.endContainer, range.endOffset);
    if (from === null || to === null || to <= from) {
      return;
    }
    start.value = from;
    end.value = to;
    if (quote) {
      quote.value = "";
    }
    if (whole) {
      whole.checked = false;
    }
    var words = Array.from(text.textContent).slice(from, to).join("");
    status.textContent = status.getAttribute("data-template")
      .replace("{start}", from).replace("{end}", to).replace("{words}", words);
  }

  text.addEventListener("mouseup", update);
  text.addEventListener("keyup", update);
  text.addEventListener("touchend", update);

  function typing(target) {
    if (!target) {
      return false;
    }
    var tag = target.tagName;
    return tag === "TEXTAREA" || tag === "SELECT" || target.isContentEditable ||
      (tag === "INPUT" && target.type !== "checkbox" && target.type !== "radio");
  }

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || typing(event.target)) {
      return;
    }
    if (!/^[1-9]$/.test(event.key)) {
      return;
    }
    var box = form.querySelector("input[data-shortcut='" + event.key + "']");
    if (!box) {
      return;
    }
    event.preventDefault();
    box.checked = !box.checked;
    var label = box.closest("label");
    var name = label ? label.textContent.replace(/\s+/g, " ").trim() : event.key;
    status.textContent = status.getAttribute(box.checked ? "data-ticked" : "data-unticked") + " " + name;
  });
}());
