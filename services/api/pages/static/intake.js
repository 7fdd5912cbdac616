/* The unified social credit code, checked as it is typed (the case intake and edit forms).
 *
 * Asks GET /api/v1/credit-codes/check, which applies the same rule as the server
 * does when the form is posted (shared/cases/credit_code.py); this script holds
 * no rule of its own.  Quiet while a code is still being typed and could become
 * valid; says why it is wrong as soon as it cannot, or when the field is left.
 */
(function () {
  "use strict";

  function watch(input) {
    var out = document.getElementById(input.getAttribute("data-credit-check"));
    if (!out || input.getAttribute("data-credit-ready")) { return; }
    input.setAttribute("data-credit-ready", "1");
    var timer = null;
    var asked = 0;

    function say(text, bad) {
      out.textContent = text || "";
      out.className = "credit-live" + (text ? (bad ? " field-error" : " ok") : "");
      if (bad) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
    }

    function check(leaving) {
      var code = input.value.replace(/\s+/g, "");
      if (!code) { say("", false); return; }
      var mine = ++asked;
      var xhr = new XMLHttpRequest();
      xhr.open("GET", "/api/v1/credit-codes/check?code=" + encodeURIComponent(code));
      xhr.setRequestHeader("Accept-Language", document.documentElement.lang || "zh-CN");
      xhr.addEventListener("load", function () {
        if (mine !== asked || xhr.status !== 200) { return; }
        var answer = JSON.parse(xhr.responseText);
        if (answer.valid) {
          say(input.getAttribute("data-ok-text"), false);
        } else if (answer.incomplete && !leaving) {
          say("", false);
        } else {
          say(answer.message, true);
        }
      });
      xhr.send();
    }

    input.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(function () { check(false); }, 250);
    });
    input.addEventListener("change", function () {
      window.clearTimeout(timer);
      check(true);
    });
  }

  function start() {
    var inputs = document.querySelectorAll("input[data-credit-check]");
    for (var i = 0; i < inputs.length; i++) { watch(inputs[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
