/*
 * Spanner — what every list page shares (companies today, contacts next).
 * The pages work without this file: each row's name is a link to the record.
 *
 * - A row with data-peek opens its quick view when clicked anywhere (not only
 *   on the name), or with Enter when the row has the keyboard focus.
 * - A field saved in the side panel (or on the record's page) updates the list
 *   row behind it at once: list cells name the fields they show with
 *   data-fields="name" (several: data-fields="address_city address_country"
 *   with data-join=", "; data-empty for the text shown when all are empty), and
 *   the record's root element says which row it is with data-record="<id>".
 */
(function () {
  'use strict';

  function peek(row) {
    if (!row || !window.htmx) return;
    row.focus({ preventScroll: true });
    window.htmx.ajax('GET', row.getAttribute('data-peek'), { target: '#popup', swap: 'innerHTML' });
  }

  document.addEventListener('click', function (e) {
    var row = e.target.closest && e.target.closest('tr[data-peek]');
    if (!row || e.defaultPrevented || e.button !== 0) return;
    if (e.target.closest('a, button, input, select, textarea, summary, label')) return;
    if (window.getSelection && String(window.getSelection()).length) return; /* selecting text */
    peek(row);
  });

  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Enter' || e.ctrlKey || e.metaKey || e.altKey || e.shiftKey) return;
    var row = e.target;
    if (!row.matches || !row.matches('tr[data-peek]')) return;
    e.preventDefault();
    peek(row);
  });

  /* The value a field now has in the record's form: a select shows its option's text. */
  function fieldValue(root, column) {
    var el = root.querySelector('[name="' + column + '"]');
    if (!el) return '';
    if (el.tagName === 'SELECT') {
      var opt = el.options[el.selectedIndex];
      return opt ? opt.textContent.replace(/\s*\(archived\)$/, '').trim() : '';
    }
    return (el.value || '').trim();
  }

  function updateRows(root) {
    var id = root.getAttribute('data-record');
    document.querySelectorAll('tr[data-id="' + id + '"] [data-fields]').forEach(function (cell) {
      var parts = cell.getAttribute('data-fields').split(/\s+/).map(function (c) { return fieldValue(root, c); })
        .filter(function (v) { return v !== ''; });
      var text = parts.join(cell.getAttribute('data-join') || ' ');
      cell.textContent = text || cell.getAttribute('data-empty') || '';
    });
  }

  /* The saved field was swapped out whole (outerHTML), so look for its mark, not its element. */
  document.addEventListener('htmx:afterSettle', function () {
    document.querySelectorAll('[data-record]').forEach(function (root) {
      if (root.querySelector('.field-saved')) updateRows(root);
    });
  });
})();
