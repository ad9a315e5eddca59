// The rule form shows only the recipients and timings that fit the chosen event; the server
// refuses the others anyway (notifications/admin/rules.py).
"use strict";
(function () {
  function apply(select) {
    const fits = JSON.parse(select.dataset.fits || "{}")[select.value];
    const form = select.form;
    if (!form) return;
    const recipientFields = ["notify_learner", "notify_manager", "notify_guardians", "notify_trainers", "notify_site_admins"];
    recipientFields.forEach(function (name) {
      const input = form.querySelector('[name="' + name + '"]');
      const row = form.querySelector(".field-" + name);
      const fitting = !fits || fits.recipients.indexOf(name) !== -1;
      if (row) row.hidden = !fitting;
      if (input && !fitting) input.checked = false;
    });
    const timing = form.querySelector('[name="timing"]');
    if (timing && fits) {
      Array.prototype.forEach.call(timing.options, function (option) {
        option.hidden = fits.timings.indexOf(option.value) === -1;
      });
      if (fits.timings.indexOf(timing.value) === -1) timing.value = fits.timings[0];
      const offset = form.querySelector(".field-offset_days");
      if (offset) offset.hidden = fits.timings.length === 1;
    }
  }
  document.addEventListener("DOMContentLoaded", function () {
    const select = document.querySelector("select[name='event'][data-fits]");
    if (!select) return;
    select.addEventListener("change", function () { apply(select); });
    apply(select);
  });
})();
