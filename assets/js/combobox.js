/*
 * Spanner — the offering auto-complete (ARIA 1.2 combobox, list autocomplete
 * with manual selection). Progressive enhancement: the server renders a
 * checkbox list that works without JavaScript, plus a disabled, hidden
 * combobox; this script removes the checkboxes and turns the combobox on.
 *
 * htmx does the fetching (hx-get="/offerings" on the input fills the listbox);
 * this file only does what htmx can't: the keyboard model, the chips, and the
 * inline "Create …" option, which POSTs to /offerings through htmx.ajax (so the
 * X-CSRF-Token header set on <body> goes along) and appends the returned chip.
 *
 *   ArrowDown / ArrowUp   open the list, move the active option (wraps)
 *   Enter                 add the active option (never submits the form then)
 *   Escape                close the list; a second Escape clears the text
 *   Backspace             on an empty input, removes the last chip
 *   Home / End            first / last option while the list is open
 *
 * No inline script, no eval, no inline style: the CSP allows none of them.
 */
(function () {
  'use strict';

  function init(root) {
    root.querySelectorAll('[data-combobox]:not([data-combobox-ready])').forEach(enhance);
  }

  function enhance(box) {
    var form = box.closest('form');
    var input = box.querySelector('[data-combobox-input]');
    var listbox = box.querySelector('[data-combobox-listbox]');
    var chips = box.querySelector('[data-combobox-chips]');
    var status = box.querySelector('[data-combobox-status]');
    var error = box.querySelector('[data-combobox-error]');
    if (!form || !input || !listbox || !chips) return;

    box.setAttribute('data-combobox-ready', '');
    // The checkbox list is the no-JavaScript picker; both post offering_ids, so only one may stay.
    var fallback = form.querySelector('[data-picker-fallback]');
    if (fallback) fallback.remove();
    box.disabled = false;
    box.hidden = false;

    var activeIndex = -1;
    var creating = false;

    function options() {
      return Array.prototype.slice.call(listbox.querySelectorAll('[role="option"]:not([aria-disabled="true"])'));
    }

    function isOpen() {
      return input.getAttribute('aria-expanded') === 'true';
    }

    function open() {
      if (!listbox.children.length) return;
      listbox.hidden = false;
      input.setAttribute('aria-expanded', 'true');
    }

    function close() {
      listbox.hidden = true;
      input.setAttribute('aria-expanded', 'false');
      setActive(-1);
    }

    function setActive(i) {
      var opts = options();
      opts.forEach(function (o) { o.setAttribute('aria-selected', 'false'); o.classList.remove('is-active'); });
      activeIndex = i;
      if (i < 0 || i >= opts.length) {
        activeIndex = -1;
        input.removeAttribute('aria-activedescendant');
        return;
      }
      var o = opts[i];
      o.setAttribute('aria-selected', 'true');
      o.classList.add('is-active');
      input.setAttribute('aria-activedescendant', o.id);
      if (o.scrollIntoView) o.scrollIntoView({ block: 'nearest' });
    }

    function move(delta) {
      var opts = options();
      if (!isOpen()) {
        if (!listbox.children.length) {
          htmx.trigger(input, 'combobox:open');
          return;
        }
        open();
      }
      if (!opts.length) return;
      var next = activeIndex < 0 ? (delta > 0 ? 0 : opts.length - 1) : (activeIndex + delta + opts.length) % opts.length;
      setActive(next);
    }

    function announce(text) {
      if (!status) return;
      status.textContent = '';
      // A fresh text node on the next frame is announced even when the words repeat.
      window.requestAnimationFrame(function () { status.textContent = text; });
    }

    function showError(text) {
      if (!error) return;
      error.textContent = text || '';
      error.hidden = !text;
      var ids = (input.getAttribute('aria-describedby') || '').split(/\s+/).filter(function (id) { return id && id !== error.id; });
      if (text) ids.unshift(error.id);
      input.setAttribute('aria-describedby', ids.join(' '));
      if (text) input.setAttribute('aria-invalid', 'true');
      else input.removeAttribute('aria-invalid');
    }

    function hasChip(id) {
      return !!chips.querySelector('[data-offering-id="' + cssEscape(id) + '"]');
    }

    // Same markup as templates/offerings/_chip.mustache, built with DOM calls (no HTML strings).
    function makeChip(id, name) {
      var li = document.createElement('li');
      li.className = 'chip chip-removable';
      li.setAttribute('data-offering-id', id);
      var label = document.createElement('span');
      label.className = 'chip-label';
      label.textContent = name;
      var button = document.createElement('button');
      button.type = 'button';
      button.className = 'chip-remove';
      button.setAttribute('data-chip-remove', '');
      button.setAttribute('aria-label', 'Remove ' + name);
      var svgNS = 'http://www.w3.org/2000/svg';
      var svg = document.createElementNS(svgNS, 'svg');
      svg.setAttribute('viewBox', '0 0 12 12');
      svg.setAttribute('width', '10');
      svg.setAttribute('height', '10');
      svg.setAttribute('aria-hidden', 'true');
      svg.setAttribute('focusable', 'false');
      var path = document.createElementNS(svgNS, 'path');
      path.setAttribute('d', 'M3 3l6 6M9 3l-6 6');
      path.setAttribute('stroke', 'currentColor');
      path.setAttribute('stroke-width', '1.6');
      path.setAttribute('stroke-linecap', 'round');
      svg.appendChild(path);
      button.appendChild(svg);
      var hidden = document.createElement('input');
      hidden.type = 'hidden';
      hidden.name = 'offering_ids';
      hidden.value = id;
      li.appendChild(label);
      li.appendChild(button);
      li.appendChild(hidden);
      return li;
    }

    function reset() {
      input.value = '';
      close();
      listbox.replaceChildren();
      input.focus();
    }

    function pick(option) {
      if (!option || option.getAttribute('aria-disabled') === 'true') return;
      showError('');
      var createName = option.getAttribute('data-offering-create');
      if (createName !== null) {
        create(createName);
        return;
      }
      var id = option.getAttribute('data-offering-id');
      var name = option.getAttribute('data-offering-name');
      if (!hasChip(id)) chips.appendChild(makeChip(id, name));
      announce(name + ' added.');
      reset();
    }

    function create(name) {
      if (creating) return;
      creating = true;
      box.classList.add('is-busy');
      var before = chips.children.length;
      // No source element: htmx posts from <body>, so the body's hx-encoding makes this multipart.
      htmx.ajax('POST', '/offerings', {
        target: chips,
        swap: 'beforeend',
        values: { name: name },
      }).then(function () {
        creating = false;
        box.classList.remove('is-busy');
        if (chips.children.length > before) {
          dedupe();
          var last = chips.lastElementChild;
          var label = last && last.querySelector('.chip-label');
          announce((label ? label.textContent : name) + ' created and added.');
          reset();
        }
      }, function () {
        creating = false;
        box.classList.remove('is-busy');
      });
    }

    // Creating a name that exists returns the existing offering: keep one chip per offering.
    function dedupe() {
      var seen = {};
      Array.prototype.slice.call(chips.children).forEach(function (li) {
        var id = li.getAttribute('data-offering-id');
        if (seen[id]) li.remove();
        seen[id] = true;
      });
    }

    function removeChip(li, focusInput) {
      var label = li.querySelector('.chip-label');
      li.remove();
      announce((label ? label.textContent : 'Offering') + ' removed.');
      // The list no longer matches what may be added; fetch it again on the next open.
      listbox.replaceChildren();
      close();
      if (focusInput) input.focus();
    }

    input.addEventListener('keydown', function (e) {
      if (e.isComposing) return;
      switch (e.key) {
        case 'ArrowDown':
          e.preventDefault();
          move(1);
          break;
        case 'ArrowUp':
          e.preventDefault();
          move(-1);
          break;
        case 'Home':
        case 'End':
          if (isOpen() && options().length) {
            e.preventDefault();
            setActive(e.key === 'Home' ? 0 : options().length - 1);
          }
          break;
        case 'Enter':
          if (isOpen() && activeIndex >= 0) {
            e.preventDefault();
            pick(options()[activeIndex]);
          } else if (input.value.trim() !== '') {
            // Half-typed text is a search, not a reason to submit the whole form.
            e.preventDefault();
            move(1);
          }
          break;
        case 'Escape':
          if (isOpen()) {
            e.preventDefault();
            e.stopPropagation();
            close();
          } else if (input.value !== '') {
            e.preventDefault();
            e.stopPropagation();
            input.value = '';
          }
          break;
        case 'Backspace':
          if (input.value === '' && chips.lastElementChild) {
            e.preventDefault();
            removeChip(chips.lastElementChild, true);
          }
          break;
        case 'Tab':
          close();
          break;
        default:
          break;
      }
    });

    input.addEventListener('input', function () {
      setActive(-1);
      showError('');
    });

    input.addEventListener('blur', function () {
      close();
    });

    // Keep focus in the input while the mouse picks an option.
    listbox.addEventListener('mousedown', function (e) { e.preventDefault(); });
    listbox.addEventListener('click', function (e) {
      var o = e.target.closest('[role="option"]');
      if (o) pick(o);
    });
    listbox.addEventListener('mousemove', function (e) {
      var o = e.target.closest('[role="option"]:not([aria-disabled="true"])');
      if (!o) return;
      var i = options().indexOf(o);
      if (i !== activeIndex) setActive(i);
    });

    chips.addEventListener('click', function (e) {
      var b = e.target.closest('[data-chip-remove]');
      if (b) removeChip(b.closest('li'), true);
    });

    box.addEventListener('click', function (e) {
      if (e.target.closest('[data-combobox-box]') && !e.target.closest('button')) input.focus();
    });

    // New options arrived (the input's own request, fired once after the swap): show them if
    // the user is still here, with nothing active yet.
    input.addEventListener('htmx:afterRequest', function (e) {
      if (e.target !== input || !e.detail || !e.detail.successful) return;
      setActive(-1);
      if (document.activeElement === input) open();
      else close();
      var n = options().filter(function (o) { return !o.hasAttribute('data-offering-create'); }).length;
      if (document.activeElement === input && input.value.trim() !== '') {
        announce(n === 0 ? 'No matching offerings.' : n + (n === 1 ? ' offering' : ' offerings') + ' found.');
      }
    });

    // The inline create answers 422 with a message when the name is not acceptable.
    document.body.addEventListener('htmx:beforeSwap', function (e) {
      var d = e.detail;
      if (!d || d.target !== chips) return;
      if (d.xhr && d.xhr.status >= 400) {
        d.shouldSwap = false;
        d.isError = false;
        showError(d.xhr.status === 422 ? d.xhr.responseText.trim() : 'The offering could not be created. Try again.');
      }
    });
  }

  // CSS.escape where available; UUIDs need nothing more anyway.
  function cssEscape(s) {
    return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, '\\$&');
  }

  document.addEventListener('htmx:load', function (e) {
    if (e.target && e.target.querySelectorAll) init(e.target);
  });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', function () { init(document); });
  else init(document);
})();
