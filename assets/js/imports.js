/*
 * Spanner — the error-correction grid (templates/imports/fix.mustache).
 * The page works without this file: Enter then submits the whole grid.
 *
 * - Enter in a cell re-checks that row only: it clicks the row's "Re-check"
 *   button, which htmx posts and replaces with the row's new state. In a
 *   multi-line cell (a textarea) Enter starts a new line, as everywhere.
 * - After the swap, focus goes to the first cell still in error in that row,
 *   or, when the row was imported, to the first cell of the next failed row,
 *   so fixing a list of rows never needs the mouse.
 * Tab between cells is the browser's own.
 */
(function () {
  'use strict';

  var pending = null; // the row number whose re-check is in flight

  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Enter' || e.isComposing || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    var input = e.target;
    if (!input.matches || !input.matches('.fix-grid input')) return;
    var row = input.closest('tr');
    var button = row && row.querySelector('button[name="row"]');
    if (!button) return;
    e.preventDefault();
    pending = button.value;
    button.click();
  });

  document.addEventListener('click', function (e) {
    var button = e.target.closest && e.target.closest('.fix-grid button[name="row"]');
    if (button) pending = button.value;
  });

  document.addEventListener('htmx:afterSettle', function () {
    if (pending === null) return;
    var row = document.getElementById('fix-row-' + pending);
    pending = null;
    if (!row) return;
    var target = row.querySelector('input[aria-invalid="true"], textarea[aria-invalid="true"]');
    if (!target) {
      var next = row.nextElementSibling;
      while (next && next.classList.contains('is-done')) next = next.nextElementSibling;
      target = next ? next.querySelector('input:not([type="hidden"]), textarea') : null;
    }
    if (target) {
      target.focus();
      if (target.select) target.select();
    } else {
      var done = row.querySelector('.fix-done');
      if (done) { done.setAttribute('tabindex', '-1'); done.focus(); }
    }
  });
})();
