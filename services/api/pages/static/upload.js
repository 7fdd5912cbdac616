/* Files from a page form, with a progress bar (the form works without this script).
 *
 * A form marked data-upload is sent by XMLHttpRequest instead of the browser, so
 * that the upload's progress can be shown; the server's answer (the page the
 * form leads to, or the form again with each file's verdict) then replaces this
 * page, exactly as if the browser had sent the form itself.  Our own file: the
 * pages' Content-Security-Policy allows no inline script.
 */
(function () {
  "use strict";

  function setButtons(form, disabled) {
    var buttons = form.querySelectorAll("button");
    for (var i = 0; i < buttons.length; i++) { buttons[i].disabled = disabled; }
  }

  function show(xhr) {
    var url = xhr.responseURL;
    document.open();
    document.write(xhr.responseText);
    document.close();
    // Redirected (Post/Redirect/Get): the address bar shows the page it led to.
    if (url && xhr.status < 400 && url !== window.location.href) {
      window.history.replaceState(null, "", url);
    }
  }

  function send(form, box) {
    var bar = box.querySelector("progress");
    var status = box.querySelector(".upload-status");
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.action);
    xhr.upload.addEventListener("progress", function (event) {
      if (!event.lengthComputable) { return; }
      var pct = Math.floor(event.loaded * 100 / event.total);
      bar.value = pct;
      status.textContent = form.getAttribute("data-progress-text").replace("{pct}", String(pct));
    });
    xhr.upload.addEventListener("load", function () {
      bar.value = 100;
      status.textContent = form.getAttribute("data-checking-text");
    });
    xhr.addEventListener("load", function () { show(xhr); });
    xhr.addEventListener("error", function () {
      status.textContent = form.getAttribute("data-failed-text");
      setButtons(form, false);
    });
    box.hidden = false;
    setButtons(form, true);
    xhr.send(new FormData(form));
  }

  function enhance(form) {
    if (form.getAttribute("data-upload-ready")) { return; }
    form.setAttribute("data-upload-ready", "1");
    form.addEventListener("submit", function (event) {
      var input = form.querySelector("input[type=file]");
      var box = form.querySelector(".upload-progress");
      if (!window.FormData || !input || !input.files || input.files.length === 0 || !box) {
        return; // no file chosen: the browser sends the form as usual
      }
      event.preventDefault();
      send(form, box);
    });
  }

  function start() {
    var forms = document.querySelectorAll("form[data-upload]");
    for (var i = 0; i < forms.length; i++) { enhance(forms[i]); }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
