// The live page's script: swaps in the sections the server sends after each save and
// sends the what-if pins. Plain script, no library, no address outside this server.
// Without it the page still reads: the server renders every section, and the pin forms post.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="live-token"]').content;
  var status = document.getElementById("live-status");
  var message = document.getElementById("live-message");
  var sections = document.getElementById("live-sections");

  function show(update) {
    Object.keys(update.sections).forEach(function (id) {
      var old = document.getElementById(id);
      if (old) {
        old.outerHTML = update.sections[id];
      } else {
        sections.insertAdjacentHTML("beforeend", update.sections[id]);
      }
    });
    status.textContent = update.status;
    document.body.classList.toggle("stale", update.stale);
    document.body.dataset.stage = update.stage;
    document.body.dataset.samples = update.samples;
  }

  var events = new EventSource("events?token=" + encodeURIComponent(token));
  events.onmessage = function (event) { show(JSON.parse(event.data)); };

  // One post at a time, in the order they were made: the browser would send posts made in
  // quick succession (a slider's steps) over several connections, and the server could
  // take an older value last.
  var posted = Promise.resolve();

  function post(form) {
    var body = new URLSearchParams(new FormData(form));  // the values as they are now
    var action = form.getAttribute("action");
    posted = posted.then(function () {
      return fetch(action, {
        method: "POST",
        headers: { "X-Token": token, "Accept": "application/json" },
        body: body
      }).then(function (response) { return response.json(); })
        .then(function (answer) { message.textContent = answer.message || ""; })
        .catch(function (error) { message.textContent = "the server did not answer: " + error; });
    });
  }

  document.addEventListener("submit", function (event) {
    event.preventDefault();
    post(event.target);
  });
  document.addEventListener("input", function (event) {
    var output = event.target.form && event.target.form.querySelector("output");
    if (output) { output.textContent = event.target.value; }
  });
  document.addEventListener("change", function (event) {
    if (event.target.form && event.target.form.classList.contains("pin")) {
      post(event.target.form);
    }
  });
})();
