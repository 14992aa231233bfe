/*
 * Spanner — small progressive enhancements. Every page works without this file.
 *
 * - #popup and #panel: htmx swaps content into them. When content arrives, focus moves
 *   into it (an [autofocus] element, else the first heading, else the region); Escape,
 *   a click on the popup backdrop, or any [data-close] button empties the region and
 *   returns focus to where it was.
 * - .flash messages get a dismiss button.
 * - htmx requests carry only the HX-* headers the server reads (see below).
 * No inline script or style is used (the CSP forbids both).
 */
(function () {
  'use strict';

  var returnFocus = { popup: null, panel: null };

  function region(id) { return document.getElementById(id); }
  function isOpen(el) { return !!el && el.childElementCount > 0; }

  function focusInto(el) {
    var target = el.querySelector('[autofocus]') || el.querySelector('h1, h2, h3');
    if (target && !target.hasAttribute('tabindex') && !target.matches('input, select, textarea, button, a[href]')) {
      target.setAttribute('tabindex', '-1');
    }
    if (!target) {
      el.setAttribute('tabindex', '-1');
      target = el;
    }
    target.focus({ preventScroll: false });
  }

  function close(id) {
    var el = region(id);
    if (!isOpen(el)) return false;
    el.replaceChildren();
    el.removeAttribute('tabindex');
    document.body.classList.remove('has-' + id);
    var back = returnFocus[id];
    returnFocus[id] = null;
    if (back && document.contains(back)) back.focus();
    return true;
  }

  function opened(id) {
    var el = region(id);
    if (!isOpen(el)) { close(id); return; }
    document.body.classList.add('has-' + id);
    var active = document.activeElement;
    if (!returnFocus[id] && active && active !== document.body && !el.contains(active)) returnFocus[id] = active;
    focusInto(el);
  }

  document.addEventListener('htmx:beforeRequest', function (e) {
    var t = e.detail && e.detail.target;
    if (!t || (t.id !== 'popup' && t.id !== 'panel')) return;
    if (!isOpen(t)) returnFocus[t.id] = document.activeElement;
  });

  document.addEventListener('htmx:afterSwap', function (e) {
    var t = e.detail && e.detail.target;
    if (t && (t.id === 'popup' || t.id === 'panel')) {
      /* "Open" in a quick view replaces it with the panel; focus goes back to where the quick view came from. */
      if (t.id === 'panel' && isOpen(region('popup'))) {
        returnFocus.panel = returnFocus.popup;
        returnFocus.popup = null;
        region('popup').replaceChildren();
        document.body.classList.remove('has-popup');
      }
      opened(t.id);
    }
  });

  document.addEventListener('keydown', function (e) {
    if (e.key !== 'Escape' || e.defaultPrevented) return;
    if (close('popup') || close('panel')) e.preventDefault();
  });

  /*
   * Dialogs: an element with data-dialog="ID" opens <dialog id="ID"> as a modal instead
   * of following its link (which, with JavaScript off, leads to a page asking the same).
   * [data-dialog-cancel] inside closes it. Esc closes it natively, and the browser gives
   * focus back to what opened it.
   */
  function openDialog(id) {
    var d = document.getElementById(id);
    if (!d || typeof d.showModal !== 'function') return false;
    if (!d.open) d.showModal();
    return true;
  }
  window.spannerOpenDialog = openDialog;

  document.addEventListener('click', function (e) {
    var opener = e.target.closest('[data-dialog]');
    if (opener && openDialog(opener.getAttribute('data-dialog'))) { e.preventDefault(); return; }
    var cancel = e.target.closest('dialog [data-dialog-cancel]');
    if (cancel) { e.preventDefault(); cancel.closest('dialog').close(); return; }
  });

  document.addEventListener('click', function (e) {
    var closer = e.target.closest('[data-close]');
    if (closer) {
      var owner = closer.closest('#popup, #panel');
      if (owner) { e.preventDefault(); close(owner.id); return; }
      var flash = closer.closest('.flash');
      if (flash) { e.preventDefault(); flash.remove(); return; }
    }
    var popup = region('popup');
    if (e.target === popup) close('popup');
  });

  /*
   * Kore 4.1 reads at most 25 header lines per request (the request line included) and
   * drops the rest without a word; Chromium sends Cookie last, so each header htmx adds
   * (HX-Trigger, HX-Trigger-Name, HX-Target, HX-Current-URL, …) can push the session
   * cookie out of the request. The server reads only HX-Request (req_is_htmx), so every
   * other HX-* header goes; X-CSRF-Token (hx-headers on <body>) stays.
   * Form bodies are multipart (hx-encoding on <body>): Kore drops urlencoded values with
   * line breaks or tabs and parses at most 20 urlencoded fields.
   */
  var HX_HEADERS_READ = { 'hx-request': true };

  document.addEventListener('htmx:configRequest', function (e) {
    var headers = e.detail && e.detail.headers;
    if (!headers) return;
    Object.keys(headers).forEach(function (name) {
      var lower = name.toLowerCase();
      if (lower.indexOf('hx-') === 0 && !HX_HEADERS_READ[lower]) delete headers[name];
    });
  });

  function addDismiss(root) {
    root.querySelectorAll('.flash:not([data-dismissable])').forEach(function (f) {
      f.setAttribute('data-dismissable', '');
      var b = document.createElement('button');
      b.type = 'button';
      b.className = 'flash-close';
      b.setAttribute('data-close', '');
      b.setAttribute('aria-label', 'Dismiss message');
      b.textContent = '×';
      f.appendChild(b);
    });
  }

  function init() {
    /* Keyboard hints and other things that only work with this script show from now on (.js-only). */
    document.documentElement.classList.add('js');
    addDismiss(document);
    ['popup', 'panel'].forEach(function (id) { if (isOpen(region(id))) opened(id); });
  }

  document.addEventListener('htmx:load', function (e) { if (e.target && e.target.querySelectorAll) addDismiss(e.target); });
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', init);
  else init();
})();
