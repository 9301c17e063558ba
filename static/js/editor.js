// The demo editor (templates/editor.html): preview and save through the
// app's same-origin /api, which forwards to the wiki's api.php as the
// logged-in user. The page arrives with the text; this only adds behaviour.
'use strict';

(() => {
  const root = document.getElementById('wl-editor');
  if (!root) {
    return;
  }
  const cfg = root.dataset;
  // The page's words, in its language (templates/editor.html); {name} is filled in here.
  const words = JSON.parse(cfg.words || '{}');
  const t = (key, values = {}) =>
    (words[key] || key).replace(/\{(\w+)\}/g, (whole, name) => (name in values ? String(values[name]) : whole));
  const pageLang = document.documentElement.lang || undefined;
  const $ = (id) => document.getElementById(id);
  const form = $('wl-editor-form');
  const textBox = $('wl-text');
  const summaryBox = $('wl-summary');
  const saveButton = $('wl-save');
  const previewButton = $('wl-preview-button');
  const statusBox = $('wl-editor-status');
  const previewSection = $('wl-preview');
  const previewBody = $('wl-preview-body');
  const theirsSection = $('wl-theirs');
  const theirsBox = $('wl-theirs-text');
  const theirsCaption = $('wl-theirs-caption');

  // What the next save is based on; moved forward by each save and by a conflict.
  let base = {
    exists: cfg.exists === '1',
    revid: cfg.revid,
    timestamp: cfg.timestamp,
    start: cfg.start
  };
  let savedText = textBox.value;
  let wikiToken = null; // the wiki's csrf token for action=edit, fetched on first save
  let leaving = false; // for the login page or a reload, with the text saved as a draft
  // Unsaved text survives a trip to the login page (same tab only).
  const draftKey = 'wikilogin-draft:' + cfg.title;

  class ApiError extends Error {
    constructor(code, info) {
      super(info);
      this.code = code; // the wiki's error code, or ours: network, badresponse, leaving
    }
  }

  // --- talking to /api -----------------------------------------------------------

  async function callApi(method, params) {
    const query = new URLSearchParams({ format: 'json', formatversion: '2', ...params });
    const headers = { Accept: 'application/json', [cfg.returnToHeader]: cfg.returnTo };
    const init = { method, headers, credentials: 'same-origin', cache: 'no-store' };
    let url = cfg.api;
    if (method === 'GET') {
      url += '?' + query;
    } else {
      init.body = query;
      headers[cfg.csrfHeader] = cfg.csrf;
    }
    let response;
    try {
      response = await fetch(url, init);
    } catch (e) {
      throw new ApiError('network', t('network'));
    }
    let data;
    try {
      data = await response.json();
    } catch (e) {
      throw new ApiError('badresponse', t('badresponse', { status: response.status }));
    }
    const error = data.error || {};
    if (response.status === 401) {
      leaveAndComeBack(error.login_url || '/login',
        t('toLogin', { why: error.info || t('sessionEnded') }));
      throw new ApiError('leaving', error.info);
    }
    if (error.code === 'badcsrf') {
      // This page belongs to an older session (a new login in another tab): a fresh copy of it works.
      leaveAndComeBack(window.location.href, t('sessionChanged'));
      throw new ApiError('leaving', error.info);
    }
    if (data.error) {
      throw new ApiError(error.code, error.info || error.code);
    }
    return data;
  }

  async function getToken(fresh) {
    if (!wikiToken || fresh) {
      const data = await callApi('GET', { action: 'query', meta: 'tokens', type: 'csrf' });
      wikiToken = data.query.tokens.csrftoken;
    }
    return wikiToken;
  }

  // --- a session gone or changed: keep the text, go (to the login page), come back ----------

  function leaveAndComeBack(url, why) {
    saveDraft();
    leaving = true;
    showMessage('warning', [text(why)]);
    window.location.assign(url);
  }

  function saveDraft() {
    try {
      sessionStorage.setItem(draftKey, JSON.stringify({ text: textBox.value, summary: summaryBox.value, base }));
    } catch (e) {
      // Storage full or disabled: nothing more we can do before leaving.
    }
  }

  function restoreDraft() {
    let draft = null;
    try {
      draft = JSON.parse(sessionStorage.getItem(draftKey) || 'null');
      sessionStorage.removeItem(draftKey);
    } catch (e) {
      return;
    }
    if (!draft || typeof draft.text !== 'string') {
      return;
    }
    textBox.value = draft.text;
    summaryBox.value = draft.summary || '';
    // Still based on what was loaded before: a change made meanwhile is a conflict.
    base = draft.base || base;
    showMessage('notice', [text(t('restored'))]);
  }

  // --- preview --------------------------------------------------------------------------

  async function preview() {
    await busy(previewButton, t('loadingPreview'), async () => {
      const data = await callApi('POST', {
        action: 'parse', title: cfg.title, text: textBox.value, contentmodel: 'wikitext',
        prop: 'text', pst: '1', preview: '1', disableeditsection: '1', disablelimitreport: '1'
      });
      showPreview(data.parse.text);
    });
  }

  function showPreview(html) {
    previewBody.replaceChildren(sanitize(html));
    previewSection.hidden = false;
    clearMessage();
    $('wl-preview-title').focus();
  }

  // The wiki's HTML is rebuilt element by element from an allow-list, never
  // assigned as HTML: DOMParser's document is inert (nothing in it runs or
  // loads), and only known-harmless tags and attributes are copied over.
  const HTML_NS = 'http://www.w3.org/1999/xhtml';
  const ALLOWED_TAGS = new Set([
    'a', 'abbr', 'b', 'bdi', 'bdo', 'blockquote', 'br', 'caption', 'cite', 'code', 'col', 'colgroup',
    'dd', 'del', 'dfn', 'div', 'dl', 'dt', 'em', 'figcaption', 'figure', 'h1', 'h2', 'h3', 'h4', 'h5',
    'h6', 'hr', 'i', 'ins', 'kbd', 'li', 'mark', 'ol', 'p', 'pre', 'q', 'rp', 'rt', 'ruby', 's', 'samp',
    'small', 'span', 'strong', 'sub', 'sup', 'table', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time',
    'tr', 'u', 'ul', 'var', 'wbr'
  ]);
  // Dropped with everything inside; any other unknown tag is unwrapped (its text kept).
  const DROPPED_TAGS = new Set([
    'script', 'style', 'template', 'iframe', 'frame', 'frameset', 'object', 'embed', 'noscript',
    'svg', 'math', 'form', 'input', 'button', 'select', 'textarea', 'option', 'link', 'meta', 'base',
    'title', 'head', 'audio', 'video', 'source', 'track', 'canvas', 'dialog', 'applet', 'portal'
  ]);
  const ALLOWED_ATTRIBUTES = {
    '*': ['dir', 'lang', 'title'],
    td: ['colspan', 'rowspan'],
    th: ['colspan', 'rowspan', 'scope'],
    ol: ['start', 'reversed'],
    li: ['value'],
    time: ['datetime']
  };
  const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

  function sanitize(html) {
    const doc = new DOMParser().parseFromString(String(html), 'text/html');
    return copyChildren(doc.body);
  }

  function copyChildren(from) {
    const fragment = document.createDocumentFragment();
    for (const child of from.childNodes) {
      const copy = copyNode(child);
      if (copy) {
        fragment.append(copy);
      }
    }
    return fragment;
  }

  function copyNode(node) {
    if (node.nodeType === Node.TEXT_NODE) {
      return document.createTextNode(node.data);
    }
    if (node.nodeType !== Node.ELEMENT_NODE || node.namespaceURI !== HTML_NS) {
      return null; // comments, processing instructions, foreign content
    }
    const tag = node.localName;
    if (DROPPED_TAGS.has(tag)) {
      return null;
    }
    if (tag === 'img') {
      return imagePlaceholder(node);
    }
    if (!ALLOWED_TAGS.has(tag)) {
      return copyChildren(node);
    }
    const element = document.createElement(tag);
    const allowed = [...ALLOWED_ATTRIBUTES['*'], ...(ALLOWED_ATTRIBUTES[tag] || [])];
    for (const name of allowed) {
      if (node.hasAttribute(name)) {
        element.setAttribute(name, node.getAttribute(name));
      }
    }
    // The wiki's classes style tables and links; ours (cdx-, wl-) must not be borrowed.
    const classes = [...node.classList].filter((c) => !/^(cdx|wl)-/.test(c));
    if (classes.length) {
      element.className = classes.join(' ');
    }
    if (tag === 'a') {
      setLink(element, node.getAttribute('href'));
    }
    element.append(copyChildren(node));
    return element;
  }

  function setLink(element, href) {
    if (!href || !cfg.wikiServer) {
      return;
    }
    let url;
    try {
      // The wiki's relative links point at the wiki; its server may be protocol-relative
      // ("//host", as on Wikimedia wikis), so it is resolved against this page first.
      url = new URL(href, new URL(cfg.wikiServer + '/', window.location.href));
    } catch (e) {
      return;
    }
    if (!LINK_PROTOCOLS.has(url.protocol)) {
      return;
    }
    element.href = url.href;
    // A new tab, so following a link never loses the text being edited.
    element.target = '_blank';
    element.rel = 'noopener noreferrer nofollow';
  }

  function imagePlaceholder(img) {
    const span = document.createElement('span');
    span.className = 'wl-preview__image';
    span.textContent = img.getAttribute('alt') ? t('imageAlt', { alt: img.getAttribute('alt') }) : t('image');
    return span;
  }

  // --- save -----------------------------------------------------------------------------

  async function save() {
    await busy(saveButton, t('saving'), async () => {
      let data;
      try {
        data = await callApi('POST', await editParams(false));
      } catch (e) {
        if (e.code !== 'badtoken') {
          throw e;
        }
        // The wiki session was renewed since the token was fetched: once more, fresh.
        data = await callApi('POST', await editParams(true));
      }
      saved(data.edit);
    }, onSaveError);
  }

  async function editParams(freshToken) {
    const params = {
      action: 'edit', title: cfg.title, text: textBox.value, summary: summaryBox.value,
      assertuser: cfg.user, starttimestamp: base.start, token: await getToken(freshToken)
    };
    if (base.exists) {
      // Based on this revision: if the page changed since, the wiki reports a conflict.
      Object.assign(params, { baserevid: base.revid, basetimestamp: base.timestamp, nocreate: '1' });
    } else {
      params.createonly = '1';
    }
    return params;
  }

  function saved(edit) {
    if (edit.result !== 'Success') {
      // An extension stopped the save (a captcha, an abuse filter...).
      const why = edit.info || edit.warning || (edit.captcha ? t('captcha') : '');
      showMessage('error', [text(t('notSaved', { why: why || t('noReason') }) + ' '), link(cfg.pageUrl + (cfg.pageUrl.includes('?') ? '&' : '?') + 'action=edit', t('editOnWiki'))]);
      return;
    }
    savedText = textBox.value;
    if (edit.nochange) {
      showMessage('notice', [text(t('noChange'))]);
      return;
    }
    base = { exists: true, revid: String(edit.newrevid), timestamp: edit.newtimestamp, start: edit.newtimestamp };
    showHeading();
    // Their version and the preview were of the text before this save.
    theirsSection.hidden = true;
    previewSection.hidden = true;
    summaryBox.value = '';
    showMessage('success', [
      text(t('savedAs', { user: cfg.user }) + ' '),
      link(cfg.pageUrl, t('viewPage')),
      text(' · '),
      link(diffUrl(edit.newrevid), t('seeChange'))
    ]);
  }

  async function onSaveError(e) {
    if (e.code === 'editconflict' || e.code === 'articleexists') {
      await showConflict();
    } else if (e.code === 'pagedeleted' || e.code === 'missingtitle') {
      showMessage('error', [text(t('deleted'))]);
    } else if (e.code !== 'leaving') {
      showMessage('error', [text(e.code && !['network', 'badresponse'].includes(e.code) ? t('errorCode', { message: e.message, code: e.code }) : e.message)]);
    }
  }

  async function showConflict() {
    const data = await callApi('GET', {
      action: 'query', prop: 'revisions', titles: cfg.title, rvslots: 'main',
      rvprop: 'content|timestamp|ids|user', curtimestamp: '1'
    });
    const rev = data.query.pages[0].revisions[0];
    theirsBox.value = rev.slots.main.content;
    theirsCaption.textContent = t('theirsCaption', { user: rev.user, time: new Date(rev.timestamp).toLocaleString(pageLang) });
    theirsSection.hidden = false;
    // The next save knowingly replaces their version with the text in the box.
    base = { exists: true, revid: String(rev.revid), timestamp: rev.timestamp, start: data.curtimestamp };
    showMessage('error', [
      strong(t('conflict') + ' '),
      text(t('conflictText', { user: rev.user }))
    ]);
  }

  // --- page furniture ----------------------------------------------------------------------

  async function busy(button, label, work, onError) {
    const original = button.textContent;
    saveButton.disabled = previewButton.disabled = true;
    form.setAttribute('aria-busy', 'true');
    button.textContent = label;
    try {
      await work();
    } catch (e) {
      if (onError) {
        await onError(e).catch(() => showMessage('error', [text(e.message)]));
      } else if (e.code !== 'leaving') {
        showMessage('error', [text(e.message)]);
      }
    } finally {
      button.textContent = original;
      form.removeAttribute('aria-busy');
      saveButton.disabled = previewButton.disabled = leaving;
    }
  }

  // A Codex message, built from nodes (text never becomes HTML).
  function showMessage(kind, parts) {
    const box = document.createElement('div');
    box.className = `cdx-message cdx-message--block cdx-message--${kind}`;
    box.setAttribute('role', kind === 'error' ? 'alert' : 'status');
    const icon = document.createElement('span');
    icon.className = 'cdx-message__icon';
    const content = document.createElement('div');
    content.className = 'cdx-message__content';
    content.append(...parts);
    box.append(icon, content);
    statusBox.replaceChildren(box);
    box.scrollIntoView({ block: 'nearest' });
  }

  function clearMessage() {
    statusBox.replaceChildren();
  }

  const text = (s) => document.createTextNode(s);
  function strong(s) {
    const b = document.createElement('strong');
    b.textContent = s;
    return b;
  }
  function link(href, label) {
    const a = document.createElement('a');
    a.href = href;
    a.textContent = label;
    a.target = '_blank';
    a.rel = 'noopener';
    return a;
  }
  // After a page is created: "Editing <title>", the title in its own element, as on load.
  function showHeading() {
    const [before, after = ''] = t('editing').split('{title}');
    const page = document.createElement('span');
    page.className = 'wl-editor__page';
    page.textContent = cfg.title;
    $('wl-editor-heading').replaceChildren(text(before), page, text(after));
  }
  function diffUrl(revid) {
    return cfg.pageUrl + (cfg.pageUrl.includes('?') ? '&' : '?') + 'diff=' + encodeURIComponent(revid);
  }

  // --- wiring -------------------------------------------------------------------------------

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    save();
  });
  previewButton.addEventListener('click', preview);
  window.addEventListener('beforeunload', (event) => {
    if (!leaving && textBox.value !== savedText) {
      event.preventDefault(); // the browser asks "Leave site? Changes may not be saved."
      event.returnValue = '';
    }
  });
  restoreDraft();
  saveButton.disabled = previewButton.disabled = false;
})();
