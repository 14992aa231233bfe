/*
 * Spanner — the assign dialogs (templates/assignments/_picker.mustache) and
 * the SDR's contact list on the home page. Both work without this file: the
 * dialog is a <details> holding a plain form whose <select> lists eligible
 * people only; each contact has its own "Meeting scheduled" button.
 *
 * The picker: the <select> becomes a text box (ARIA 1.2 combobox, list
 * autocomplete) over the same people, filtered as you type on name and
 * e-mail. The list is small and already in the page, so filtering happens
 * here, with no request.
 *   typing              filters; the first match becomes the active option
 *   ArrowDown / ArrowUp move the active option (wraps); opens the list
 *   Enter               chooses the active option; Enter again assigns
 *   Escape              closes the list; a second Escape clears the text
 * Opening the dialog puts the focus in the text box.
 *
 * The SDR list: j / k (or the arrows) move between contacts, m marks the
 * focused contact's meeting scheduled (its button, so the same form posts).
 */
(function () {
  'use strict';

  var serial = 0;

  function init(root) {
    root.querySelectorAll('select[data-assign-select]:not([data-assign-ready])').forEach(enhance);
  }

  function enhance(select) {
    var form = select.closest('form');
    if (!form) return;
    select.setAttribute('data-assign-ready', '');
    var id = select.id;
    var listId = id + '-list';
    var people = Array.prototype.slice.call(select.options)
      .filter(function (o) { return o.value; })
      .map(function (o) {
        return { value: o.value, text: o.textContent.trim(), email: o.getAttribute('data-email') || '' };
      });

    var input = document.createElement('input');
    input.type = 'text';
    input.className = 'assign-input';
    input.setAttribute('role', 'combobox');
    input.setAttribute('aria-autocomplete', 'list');
    input.setAttribute('aria-expanded', 'false');
    input.setAttribute('aria-controls', listId);
    input.setAttribute('autocomplete', 'off');
    input.setAttribute('spellcheck', 'false');
    input.placeholder = 'Type a name';
    if (select.getAttribute('aria-describedby')) input.setAttribute('aria-describedby', select.getAttribute('aria-describedby'));

    var chosen = document.createElement('input');
    chosen.type = 'hidden';
    chosen.name = select.name;

    var list = document.createElement('ul');
    list.id = listId;
    list.className = 'combobox-listbox assign-listbox';
    list.setAttribute('role', 'listbox');
    list.setAttribute('aria-label', 'People');
    list.hidden = true;

    var status = document.createElement('p');
    status.className = 'sr-only';
    status.setAttribute('role', 'status');

    /* the label's "for" now names the text box: it takes the select's id */
    select.id = id + '-native';
    select.removeAttribute('name');
    select.hidden = true;
    select.disabled = true;
    input.id = id;
    select.after(input, list, chosen, status);

    var shown = [];
    var active = -1;
    serial++;

    function render() {
      var q = input.value.trim().toLowerCase();
      list.textContent = '';
      shown = people.filter(function (p) {
        return !q || p.text.toLowerCase().indexOf(q) >= 0 || p.email.toLowerCase().indexOf(q) >= 0;
      });
      shown.forEach(function (p, i) {
        var li = document.createElement('li');
        li.id = listId + '-' + serial + '-' + i;
        li.className = 'combobox-option';
        li.setAttribute('role', 'option');
        li.setAttribute('aria-selected', 'false');
        li.textContent = p.text;
        li.addEventListener('mousedown', function (e) {
          e.preventDefault(); /* keep the focus in the text box */
          choose(i);
        });
        list.appendChild(li);
      });
      if (!shown.length) {
        var none = document.createElement('li');
        none.className = 'combobox-empty';
        none.setAttribute('role', 'option');
        none.setAttribute('aria-disabled', 'true');
        none.textContent = 'No one matches “' + input.value.trim() + '”.';
        list.appendChild(none);
      }
      status.textContent = shown.length === 1 ? '1 person matches' : shown.length + ' people match';
      setActive(shown.length ? 0 : -1);
    }

    function open() {
      list.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    }

    function close() {
      list.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      input.removeAttribute('aria-activedescendant');
    }

    function setActive(i) {
      var items = list.querySelectorAll('.combobox-option');
      items.forEach(function (li) { li.setAttribute('aria-selected', 'false'); li.classList.remove('is-active'); });
      active = i;
      if (i < 0 || i >= items.length) {
        active = -1;
        input.removeAttribute('aria-activedescendant');
        return;
      }
      items[i].setAttribute('aria-selected', 'true');
      items[i].classList.add('is-active');
      input.setAttribute('aria-activedescendant', items[i].id);
      if (items[i].scrollIntoView) items[i].scrollIntoView({ block: 'nearest' });
    }

    function choose(i) {
      var p = shown[i];
      if (!p) return;
      chosen.value = p.value;
      input.value = p.text;
      status.textContent = p.text + ' chosen. Press Enter to assign.';
      close();
    }

    input.addEventListener('input', function () {
      chosen.value = '';
      render();
      open();
    });
    input.addEventListener('focus', function () {
      if (!chosen.value) {
        render();
        open();
      }
    });
    input.addEventListener('blur', close);
    input.addEventListener('keydown', function (e) {
      var isOpen = !list.hidden;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        if (!isOpen) {
          render();
          open();
          return;
        }
        if (!shown.length) return;
        var step = e.key === 'ArrowDown' ? 1 : -1;
        setActive((active + step + shown.length) % shown.length);
      } else if (e.key === 'Enter') {
        if (isOpen && active >= 0) {
          e.preventDefault();
          choose(active);
        } else if (!chosen.value) {
          e.preventDefault();
          render();
          open();
        }
        /* otherwise the form submits: the person is chosen */
      } else if (e.key === 'Escape') {
        if (isOpen) {
          e.preventDefault();
          e.stopPropagation();
          close();
        } else if (input.value) {
          e.preventDefault();
          e.stopPropagation();
          input.value = '';
          chosen.value = '';
        }
      }
    });
    form.addEventListener('submit', function (e) {
      if (!chosen.value) {
        e.preventDefault();
        render();
        open();
        input.focus();
        status.textContent = 'Choose a person from the list first.';
      }
    });
    var box = form.closest('details');
    if (box) {
      box.addEventListener('toggle', function () {
        if (box.open) input.focus();
      });
    }
  }

  /* ---- the SDR's contacts: j/k move, m marks the meeting scheduled */
  document.addEventListener('keydown', function (e) {
    if (e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t.closest && t.closest('input, textarea, select, [contenteditable]')) return;
    var table = document.querySelector('[data-sdr-list]');
    if (!table) return;
    var rows = Array.prototype.slice.call(table.querySelectorAll('tbody tr'));
    if (!rows.length) return;
    var at = rows.indexOf(t.closest ? t.closest('tr') : null);
    if (e.key === 'j' || (e.key === 'ArrowDown' && at >= 0)) {
      e.preventDefault();
      rows[Math.min(at + 1, rows.length - 1)].focus();
    } else if (e.key === 'k' || (e.key === 'ArrowUp' && at >= 0)) {
      e.preventDefault();
      rows[Math.max(at - 1, 0)].focus();
    } else if (e.key === 'm' && at >= 0) {
      var button = rows[at].querySelector('[data-key-meeting]');
      if (button) {
        e.preventDefault();
        button.click();
      }
    }
  });

  document.addEventListener('DOMContentLoaded', function () { init(document); });
  document.addEventListener('htmx:load', function (e) { init(e.target); });
})();
