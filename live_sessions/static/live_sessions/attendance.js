// The trainer's attendance page. The page works without this script: a search, a go show or a
// walk-in posts the answers along and the page comes back with them. With it, Enter in a walk-in field adds
// the walk-in (rather than searching), and leaving the page with answers not saved asks first.
(function () {
  "use strict";
  const form = document.getElementById("attendance-form");
  if (!form) return;
  let unsaved = form.dataset.unsaved === "true";
  form.addEventListener("change", function (event) {
    if (event.target.name && event.target.name.startsWith("learner_")) unsaved = true;
  });
  form.addEventListener("submit", function () {
    unsaved = false;
  });
  window.addEventListener("beforeunload", function (event) {
    if (unsaved) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  const addWalkIn = form.querySelector("button[value='walk_in']");
  form.querySelectorAll("[name^='walk_in-']").forEach(function (field) {
    field.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && addWalkIn) {
        event.preventDefault();
        addWalkIn.click();
      }
    });
  });
})();
