// The dispatch form's deadlines, redrawn as the time limit is typed (GET /api/v1/cases/{id}/dispatch-preview).
// Without this script the form's 计算期限 button asks the server to draw the page again; nothing here is needed.
(function () {
  "use strict";
  var form = document.getElementById("form-dispatch");
  var box = document.getElementById("dp-due");
  var input = document.getElementById("dp-days");
  if (!form || !box || !input || !window.fetch || !window.Intl) { return; }
  var url = form.getAttribute("data-preview-url");
  var tz = form.getAttribute("data-tz") || "Asia/Shanghai";
  var english = (document.documentElement.lang || "").indexOf("en") === 0;
  var numbers = new Intl.DateTimeFormat("en-CA", {timeZone: tz, year: "numeric", month: "2-digit", day: "2-digit",
                                                  hour: "2-digit", minute: "2-digit", hourCycle: "h23"});
  var weekdays = new Intl.DateTimeFormat(english ? "en-US" : "zh-CN", {timeZone: tz, weekday: "short"});
  var timer = null;
  var asked = 0;

  // As the server writes it (shared/templating.format_local): 2026-12-10（周四）17:30 / Thu 2026-12-10 17:30.
  function shown(iso) {
    var when = new Date(iso);
    var p = {};
    numbers.formatToParts(when).forEach(function (part) { p[part.type] = part.value; });
    var day = p.year + "-" + p.month + "-" + p.day;
    var time = p.hour + ":" + p.minute;
    var weekday = weekdays.format(when);
    return english ? weekday + " " + day + " " + time : day + "（" + weekday + "）" + time;
  }

  function put(name, iso) {
    var slot = box.querySelector("[data-due='" + name + "'] time");
    if (slot) { slot.setAttribute("datetime", iso); slot.textContent = shown(iso); }
  }

  function redraw(preview) {
    var sentence = box.querySelector("[data-template]");
    sentence.textContent = sentence.getAttribute("data-template").replace("{n}", String(preview.working_days));
    put("acceptance", preview.acceptance_due_at);
    put("feedback", preview.feedback_due_at);
    box.querySelectorAll("[data-provisional]").forEach(function (el) { el.hidden = !preview.provisional; });
  }

  function ask() {
    var days = input.value.trim();
    if (days !== "" && !(/^\d{1,3}$/.test(days) && +days >= 1 && +days <= 120)) { return; }
    var mine = ++asked;
    fetch(url + (days ? "?working_days=" + days : ""), {credentials: "same-origin", headers: {Accept: "application/json"}})
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (preview) { if (preview && mine === asked) { redraw(preview); } })
      .catch(function () { /* the button still works */ });
  }

  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(ask, 250);
  });
})();
