/*
 * Spanner — the keyboard-driven approval queue (SPEC.md §5).
 *
 *   j / ArrowDown, k / ArrowUp   move the focused row
 *   Enter / o                    open the side panel of the focused row
 *   a                            approve the focused row
 *   r                            reject: opens the reason field (Enter submits, Esc cancels)
 *   /                            focus the search box        ?   show or hide the keys
 *
 * Every key presses a visible button or opens a visible control, so the page
 * does exactly the same without this file. The keys listen on the document:
 * clicking somewhere else and coming back never loses them.
 */
(function () {
  'use strict';

  var table = null;
  var index = 0;

  function rows() {
    return table ? Array.prototype.slice.call(table.querySelectorAll('tbody tr[data-id]')) : [];
  }

  function focusRow(i, moveFocus) {
    var list = rows();
    if (!list.length) { index = 0; return; }
    index = Math.max(0, Math.min(i, list.length - 1));
    list.forEach(function (row, k) {
      row.classList.toggle('is-focused', k === index);
      if (k === index) row.setAttribute('aria-current', 'true');
      else row.removeAttribute('aria-current');
    });
    var row = list[index];
    row.scrollIntoView({ block: 'nearest' });
    if (moveFocus !== false) {
      var link = row.querySelector('a[href]');
      if (link) link.focus({ preventScroll: true });
    }
  }

  function current() { return rows()[index]; }

  function init() {
    table = document.querySelector('table[data-queue]');
    if (table) focusRow(Math.min(index, rows().length - 1), false);
  }

  function isTyping(el) {
    return !!el && el.matches && el.matches('input, textarea, select, [contenteditable="true"]');
  }

  function announce(message, kind) {
    var region = document.getElementById('flash');
    if (!region || !message) return;
    var p = document.createElement('p');
    p.className = 'flash flash-' + (kind || 'success');
    p.textContent = message;
    region.replaceChildren(p);
  }

  function openPanel(row) {
    if (!row || !window.htmx) return;
    window.htmx.ajax('GET', row.getAttribute('data-panel'), { target: '#panel', swap: 'innerHTML' });
  }

  function approve(row) {
    var form = row && row.querySelector('form[data-action="approve"]');
    if (form) form.requestSubmit();
  }

  function startReject(row) {
    var box = row && row.querySelector('details[data-action="reject"]');
    if (!box) return;
    box.open = true;
    var area = box.querySelector('textarea');
    if (area) area.focus();
  }

  function cancelReject(box) {
    box.open = false;
    focusRow(index);
  }

  document.addEventListener('keydown', function (e) {
    if (!table || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;

    var rejectBox = t.closest && t.closest('details[data-action="reject"]');
    if (rejectBox && t.matches('textarea')) {
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        if (t.value.trim() === '') { t.setAttribute('aria-invalid', 'true'); return; }
        t.form.requestSubmit();
      } else if (e.key === 'Escape') {
        e.preventDefault();
        e.stopPropagation();
        cancelReject(rejectBox);
      }
      return;
    }
    if (isTyping(t)) {
      if (e.key === 'Escape' && t.matches('[data-key-search]')) { t.blur(); focusRow(index); }
      return;
    }
    if (document.body.classList.contains('has-popup')) return;

    var row = current();
    switch (e.key) {
      case 'j': case 'ArrowDown': focusRow(index + 1); break;
      case 'k': case 'ArrowUp': focusRow(index - 1); break;
      case 'Enter': case 'o': openPanel(row); break;
      case 'a': approve(row); break;
      case 'r': startReject(row); break;
      case '/': {
        var search = document.querySelector('[data-key-search]');
        if (search) search.focus();
        break;
      }
      case '?': {
        var help = document.getElementById('keys-help');
        if (help) help.open = !help.open;
        break;
      }
      default: return;
    }
    e.preventDefault();
  });

  document.addEventListener('click', function (e) {
    if (!table) return;
    var row = e.target.closest && e.target.closest('tr[data-id]');
    if (!row || !table.contains(row)) return;
    var i = rows().indexOf(row);
    if (i >= 0) focusRow(i, !e.target.closest('a, button, summary, textarea, input'));
  });

  /*
   * A decision came back (from a queue row, the quick view or the panel). On
   * success the company's queue row leaves and the next row is focused, and a
   * panel showing that company is reloaded so it never shows stale buttons.
   */
  document.addEventListener('htmx:afterSwap', function (e) {
    var target = e.detail && e.detail.target;
    if (!target) return;
    if (target.id === 'company-results' || target.id === 'company-rows' || (target.matches && target.matches('tr.list-next'))) {
      init();
      return;
    }
    var decided = target.querySelector && target.querySelector('[data-decided]');
    if (!decided) return;
    var id = decided.getAttribute('data-id');
    var ok = decided.getAttribute('data-decided') === 'ok';
    announce(decided.textContent, ok ? 'success' : 'error');
    var row = document.getElementById('queue-' + id);
    if (!ok) {
      if (row && table && table.contains(row)) focusRow(rows().indexOf(row));
      return;
    }
    if (row && table && table.contains(row)) {
      var i = rows().indexOf(row);
      var rowHadFocus = row.contains(document.activeElement) || row.classList.contains('is-focused');
      row.remove();
      if (i >= 0) index = i;
      if (!rows().length) { window.location.reload(); return; }
      focusRow(index, rowHadFocus);
    }
    var panelCard = document.querySelector('#panel [data-company="' + id + '"]');
    if (panelCard && window.htmx) {
      window.htmx.ajax('GET', '/companies/' + id + '/panel', { target: '#panel', swap: 'innerHTML' });
    }
  });

  document.addEventListener('htmx:afterSettle', function (e) {
    if (e.detail && e.detail.target && e.detail.target.id === 'company-results') init();
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
