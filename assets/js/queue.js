/*
 * Spanner — the keyboard-driven approval queue (SPEC.md §5).
 *
 *   j / ArrowDown, k / ArrowUp   move the focused row
 *   Enter / o                    open the side panel of the focused row
 *   a                            approve the focused row
 *   r                            reject: opens the reason field (Enter submits, Esc cancels)
 *   /                            focus the search box        ?   show or hide the keys
 * and where the queue takes many at once (table[data-multi], the contacts tab):
 *   x                            select / unselect the focused row
 *   Shift+x (or Shift+click)     select every row from the last one toggled to this one
 *   A                            approve the selection, after a confirmation with the count
 *
 * Every key presses a visible button or opens a visible control, so the page
 * does exactly the same without this file. The keys listen on the document:
 * clicking somewhere else and coming back never loses them.
 *
 * What the approver sees is what a key acts on: while the side panel is open
 * it always shows the focused row's company (it follows j/k and, after a
 * decision, moves on to the next row or closes), and a key that would act on
 * a row that is off screen, or on a company other than the one in the panel,
 * first brings that row into view instead of acting.
 *
 * One script serves every tab: the table says which region holds its
 * results (data-results), rows name their panel (data-panel), and a panel
 * names itself (data-panel-url), so nothing here knows companies or contacts.
 */
(function () {
  'use strict';

  var table = null;
  var index = 0;
  var anchor = -1; /* the last row x toggled: Shift+x selects from there */

  function resultsId() {
    return (table && table.getAttribute('data-results')) || 'company-results';
  }

  function rows() {
    return table ? Array.prototype.slice.call(table.querySelectorAll('tbody tr[data-id]')) : [];
  }

  function panelRecord() {
    var card = document.querySelector('#panel [data-record]');
    return card ? card.getAttribute('data-record') : null;
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
    countSelected();
  }

  /* ------------------------------------------------------------ selection */

  function box(row) { return row ? row.querySelector('input[data-select]') : null; }

  function selected() {
    return rows().filter(function (row) { var b = box(row); return b && b.checked; });
  }

  /* Every place that shows the count of the selection ("Approve selected (2)", the confirmation). */
  function countSelected() {
    var n = String(selected().length);
    document.querySelectorAll('[data-selected-count]').forEach(function (el) { el.textContent = n; });
  }

  function toggle(i, range) {
    var list = rows();
    if (!list[i] || !box(list[i])) return;
    if (range && anchor >= 0 && anchor < list.length) {
      var lo = Math.min(anchor, i), hi = Math.max(anchor, i);
      for (var k = lo; k <= hi; k++) if (box(list[k])) box(list[k]).checked = true;
    } else {
      box(list[i]).checked = !box(list[i]).checked;
    }
    anchor = i;
    countSelected();
  }

  function approveSelected() {
    var n = selected().length;
    if (!n) { announce('Nothing is selected: x selects the focused contact.', 'error'); return; }
    countSelected();
    var confirm = document.getElementById('approve-confirm');
    if (!confirm || typeof confirm.showModal !== 'function') { submitSelected(); return; }
    focusRow(index);
    confirm.showModal();
    var yes = confirm.querySelector('[data-confirm-approve]');
    if (yes) yes.focus();
  }

  function submitSelected() {
    var button = document.querySelector('[data-approve-selected]');
    if (!button) return;
    button.setAttribute('data-confirmed', '');
    button.click(); /* a click, so the form is sent by this button and never by a row's */
  }

  function isTyping(el) {
    /* a ticked box keeps the keys: x, A and j/k go on working after a click on it */
    return !!el && el.matches && el.matches('input:not([type="checkbox"]), textarea, select, [contenteditable="true"]');
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

  function closePanel() {
    var closer = document.querySelector('#panel [data-close]');
    if (closer) closer.click();
  }

  function onScreen(row) {
    var r = row.getBoundingClientRect();
    return r.height > 0 && r.top >= 0 && r.bottom <= (window.innerHeight || document.documentElement.clientHeight);
  }

  /*
   * May a key act on this row now? Only when the approver can see it: the row is
   * on screen and, if the panel is open, the panel shows this very company.
   * Otherwise the row is brought into view (and into the panel) and nothing else
   * happens: the next key press acts on what is now visible.
   */
  function actionable(row) {
    if (!row) return false;
    var shown = panelRecord();
    if (shown && shown !== row.getAttribute('data-id')) { openPanel(row); return false; }
    if (!onScreen(row)) { row.scrollIntoView({ block: 'center' }); return false; }
    return true;
  }

  function approve(row) {
    var form = row.querySelector('form[data-action="approve"]');
    if (form) { form.requestSubmit(); return; }
    var button = row.querySelector('button[data-action="approve"]');
    if (button) button.click();
  }

  function startReject(row) {
    var box = row.querySelector('details[data-action="reject"]');
    if (!box) return;
    box.open = true;
    var area = box.querySelector('textarea');
    if (area) area.focus();
  }

  function cancelReject(box) {
    box.open = false;
    focusRow(index);
  }

  /* The same message, in the same place, as the server gives for a blank reason. */
  function reasonError(area, message) {
    var id = area.id + '-error';
    var p = document.getElementById(id);
    if (!p) {
      p = document.createElement('p');
      p.className = 'field-error';
      p.id = id;
      area.insertAdjacentElement('afterend', p);
    }
    p.textContent = message;
    area.setAttribute('aria-invalid', 'true');
    area.setAttribute('aria-describedby', id);
    area.focus();
  }

  function move(to) {
    focusRow(to);
    /* an open panel follows the focus: it never shows one company while keys act on another */
    if (panelRecord()) openPanel(current());
  }

  function toggleKeys() {
    var help = document.getElementById('keys-help');
    if (!help || typeof help.showModal !== 'function') return;
    if (help.open) { help.close(); return; }
    /* the dialog gives focus back to what had it: make that the focused row */
    focusRow(index);
    help.showModal();
  }

  document.addEventListener('keydown', function (e) {
    if (!table || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;

    var rejectBox = t.closest && t.closest('details[data-action="reject"]');
    if (rejectBox && t.matches('textarea')) {
      if (e.key === 'Enter' && !e.shiftKey) {
        e.preventDefault();
        if (t.value.trim() === '') { reasonError(t, 'Give a reason for the rejection.'); return; }
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
    var dialog = document.querySelector('dialog[open]');
    if (dialog) {
      if (e.key === 'Enter' && dialog.id === 'approve-confirm' && !t.closest('[data-dialog-cancel]')) {
        e.preventDefault();
        dialog.close();
        submitSelected();
      }
      if (e.key === '?' && dialog.id === 'keys-help') { e.preventDefault(); dialog.close(); }
      return;
    }
    if (document.body.classList.contains('has-popup')) return;

    var row = current();
    switch (e.key) {
      case 'j': case 'ArrowDown': move(index + 1); break;
      case 'k': case 'ArrowUp': move(index - 1); break;
      case 'Enter': case 'o':
        if (row && onScreen(row)) openPanel(row);
        else if (row) row.scrollIntoView({ block: 'center' });
        break;
      case 'a': if (actionable(row)) approve(row); break;
      case 'x': case 'X':
        if (!table.hasAttribute('data-multi') || !row) return;
        if (!onScreen(row)) { row.scrollIntoView({ block: 'center' }); break; }
        toggle(index, e.shiftKey);
        break;
      case 'A':
        if (!table.hasAttribute('data-multi')) return;
        approveSelected();
        break;
      case 'r': if (actionable(row)) startReject(row); break;
      case '/': {
        var search = document.querySelector('[data-key-search]');
        if (search) search.focus();
        break;
      }
      case '?': toggleKeys(); break;
      default: return;
    }
    e.preventDefault();
  });

  document.addEventListener('click', function (e) {
    if (!table) return;
    var yes = e.target.closest && e.target.closest('[data-confirm-approve]');
    if (yes) {
      var dlg = yes.closest('dialog');
      if (dlg) dlg.close();
      submitSelected();
      return;
    }
    var all = e.target.closest && e.target.closest('[data-approve-selected]');
    if (all) {
      if (all.hasAttribute('data-confirmed')) { all.removeAttribute('data-confirmed'); return; }
      e.preventDefault();
      approveSelected();
      return;
    }
    var check = e.target.closest && e.target.closest('input[data-select]');
    if (check) {
      var at = rows().indexOf(check.closest('tr'));
      if (e.shiftKey && anchor >= 0 && at >= 0) { check.checked = !check.checked; toggle(at, true); }
      else { anchor = at; countSelected(); }
      if (at >= 0) focusRow(at, false);
      return;
    }
    var row = e.target.closest && e.target.closest('tr[data-id]');
    if (!row || !table.contains(row)) return;
    var i = rows().indexOf(row);
    if (i >= 0) focusRow(i, !e.target.closest('a, button, summary, textarea, input'));
  });

  /* The page's results again (the empty state, the count), keeping the flash message. */
  function refreshResults(what) {
    if (!window.htmx) return;
    window.htmx.ajax('GET', window.location.pathname + window.location.search,
      { target: what, select: what, swap: 'outerHTML' });
  }

  /*
   * A decision came back (from a queue row, the quick view or the panel). On
   * success the company's queue row leaves, the next row is focused, an open
   * panel moves on to that row's company (or closes after the last one), and
   * the message stays on screen. A reason refused comes back as the form
   * again: the focus goes to the field beside its message.
   */
  document.addEventListener('htmx:afterSwap', function (e) {
    var target = e.detail && e.detail.target;
    if (!target) return;
    if (target.id === resultsId() || (table && target === table.tBodies[0]) || (target.matches && target.matches('tr.list-next'))) {
      init();
      return;
    }
    var outcome = target.querySelector && target.querySelector('[data-approved-outcome]');
    if (outcome) { approvedMany(outcome); return; }
    var invalid = target.querySelector && target.querySelector('textarea[aria-invalid="true"]');
    if (invalid) { invalid.focus(); return; }
    var decided = target.querySelector && target.querySelector('[data-decided]');
    if (!decided) return;
    var id = decided.getAttribute('data-id');
    var ok = decided.getAttribute('data-decided') === 'ok';
    announce(decided.textContent, ok ? 'success' : 'error');
    var row = document.getElementById('queue-' + id);
    var inQueue = row && table && table.contains(row);
    if (!ok) {
      if (inQueue) focusRow(rows().indexOf(row));
      return;
    }
    var panelShowsIt = panelRecord() === id;
    if (inQueue) {
      var i = rows().indexOf(row);
      var rowHadFocus = row.contains(document.activeElement) || row.classList.contains('is-focused');
      row.remove();
      if (i >= 0) index = i;
      if (!rows().length) {
        if (panelShowsIt) closePanel();
        refreshResults('#' + resultsId());
        refreshResults('#queue-tabs');
        return;
      }
      focusRow(index, rowHadFocus && !panelShowsIt);
      refreshResults('#list-count');
      refreshResults('#queue-tabs');
      if (panelShowsIt) { openPanel(current()); return; }
    }
    /* outside the queue (a list's panel): the panel shows the company's new status */
    if (panelShowsIt) reloadPanel();
  });

  function reloadPanel() {
    var card = document.querySelector('#panel [data-panel-url]');
    if (card && window.htmx) {
      window.htmx.ajax('GET', card.getAttribute('data-panel-url'), { target: '#panel', swap: 'innerHTML' });
    }
  }

  /*
   * A bulk (or single-row) approval came back: every row it names (approved
   * now, or already approved by someone else) leaves the queue, the focus
   * lands on the row after the focused one, the selection empties, and the
   * counts follow. A panel showing one of them moves on too.
   */
  function approvedMany(outcome) {
    var ids = (outcome.getAttribute('data-gone-ids') || '').split(/\s+/).filter(Boolean);
    var ok = outcome.classList.contains('decision-ok');
    announce(outcome.textContent.replace(/\s+/g, ' ').trim(), ok ? 'success' : 'error');
    var shown = panelRecord();
    var panelShowsOne = shown && ids.indexOf(shown) >= 0;
    if (!table) { if (panelShowsOne) reloadPanel(); return; }
    var list = rows();
    /* the new focus: the first row at or after the focused one that stays */
    var next = null;
    for (var k = index; k < list.length; k++) {
      if (ids.indexOf(list[k].getAttribute('data-id')) < 0) { next = list[k]; break; }
    }
    if (!next) for (var j = list.length - 1; j >= 0; j--) {
      if (ids.indexOf(list[j].getAttribute('data-id')) < 0) { next = list[j]; break; }
    }
    ids.forEach(function (id) {
      var row = document.getElementById('queue-' + id);
      if (row && table.contains(row)) row.remove();
    });
    anchor = -1;
    selected().forEach(function (row) { box(row).checked = false; });
    countSelected();
    if (!rows().length) {
      if (panelShowsOne) closePanel();
      refreshResults('#' + resultsId());
      refreshResults('#queue-tabs');
      return;
    }
    index = next ? rows().indexOf(next) : 0;
    focusRow(index, !panelShowsOne);
    refreshResults('#list-count');
    refreshResults('#queue-tabs');
    if (panelShowsOne) openPanel(current());
  }

  document.addEventListener('htmx:afterSettle', function (e) {
    if (e.detail && e.detail.target && e.detail.target.id === resultsId()) init();
  });

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
