// Quiz page, progressive enhancement: the form works without this script.
// - saves answers in the background a moment after each change;
// - asks before submitting with unanswered questions;
// - counts down a time limit and submits when it is reached.
(function () {
  "use strict";
  var form = document.getElementById("quiz-form");
  if (!form) { return; }
  var status = form.querySelector(".quiz-save-status");
  var timer = null;
  var submitting = false;

  function payload(action) {
    var data = new FormData(form);
    data.set("action", action);
    return data;
  }

  function clock(date) {
    return date.toLocaleTimeString(document.documentElement.lang, { hour: "2-digit", minute: "2-digit" });
  }

  function save() {
    fetch(form.getAttribute("action"), {  // form.action is the buttons named "action"
      method: "POST",
      body: payload("save"),
      headers: { "X-Requested-With": "fetch" },
      credentials: "same-origin"
    }).then(function (response) {
      return response.json().then(function (body) { return { ok: response.ok, body: body }; });
    }).then(function (result) {
      if (result.body.submitted && result.body.url) { window.location.assign(result.body.url); return; }
      if (result.ok && result.body.saved) {
        status.textContent = form.dataset.saved.replace("{time}", clock(new Date()));
      } else {
        status.textContent = result.body.error || form.dataset.saveFailed;
      }
    }).catch(function () {
      status.textContent = form.dataset.saveFailed;
    });
  }

  form.addEventListener("change", function () {
    window.clearTimeout(timer);
    timer = window.setTimeout(save, 600);
  });

  function unanswered() {
    var count = 0;
    form.querySelectorAll("fieldset").forEach(function (fieldset) {
      var inputs = fieldset.querySelectorAll("input, select");
      if (!inputs.length) { return; }
      var answered = Array.prototype.some.call(inputs, function (input) {
        return input.tagName === "SELECT" ? input.value !== "" : input.checked;
      });
      if (!answered) { count += 1; }
    });
    return count;
  }

  form.addEventListener("submit", function (event) {
    window.clearTimeout(timer);
    if (submitting) { return; }
    var button = event.submitter;
    if (button && button.value === "submit") {
      var missing = unanswered();
      if (missing && !window.confirm(button.dataset.confirmUnanswered.replace("{count}", missing))) {
        event.preventDefault();
        return;
      }
      submitting = true;
    }
  });

  var error = document.getElementById("quiz-error");
  if (error) { error.focus(); }

  var timerBox = document.querySelector(".quiz-timer");
  if (timerBox && timerBox.dataset.deadline) {
    var deadline = new Date(timerBox.dataset.deadline).getTime();
    var left = timerBox.querySelector(".quiz-timer-left");
    var announce = timerBox.querySelector(".quiz-timer-alert");
    var announced = {};
    var tick = function () {
      var seconds = Math.max(0, Math.round((deadline - Date.now()) / 1000));
      [5, 1].forEach(function (minutes) {  // spoken once each by screen readers
        if (seconds <= minutes * 60 && seconds > 0 && !announced[minutes]) {
          announced[minutes] = true;
          announce.textContent = announce.dataset.minutesLeft.replace("{minutes}", Math.ceil(seconds / 60));
        }
      });
      var text = Math.floor(seconds / 60) + ":" + String(seconds % 60).padStart(2, "0");
      left.textContent = form.dataset.timeLeft.replace("{time}", text);
      if (seconds === 0 && !submitting) {
        submitting = true;
        var hidden = document.createElement("input");
        hidden.type = "hidden";
        hidden.name = "action";
        hidden.value = "submit";
        form.appendChild(hidden);
        form.submit();
        return;
      }
      window.setTimeout(tick, 1000);
    };
    tick();
  }
})();
