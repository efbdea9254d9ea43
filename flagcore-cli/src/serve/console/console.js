// The operator console's only script: search, kill and revive, and a refresh that swaps in
// the server's freshly rendered rows and audit trail.
(function () {
  'use strict';
  const $ = (selector) => document.querySelector(selector);

  function applySearch() {
    const query = $('#search').value.trim().toLowerCase();
    for (const row of document.querySelectorAll('#flags tbody tr.flag')) {
      row.hidden = query !== '' && !row.dataset.search.includes(query);
    }
  }

  function say(text, ok) {
    const message = $('#message');
    message.textContent = text;
    message.className = ok ? 'ok' : 'err';
  }

  async function refresh() {
    let response;
    try {
      response = await fetch('/', { cache: 'no-store' });
    } catch (e) {
      return;
    }
    if (!response.ok) return;
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html');
    for (const selector of ['#flags tbody', '#audit', '#version']) {
      const next = fresh.querySelector(selector);
      const current = $(selector);
      if (next && current) current.replaceWith(next);
    }
    applySearch();
  }

  async function act(button) {
    const flag = button.closest('tr').dataset.flag;
    const action = button.dataset.action;
    const token = $('#token').value.trim();
    const reason = $('#reason').value.trim();
    if (!token) {
      say('Enter your operator token first.', false);
      $('#token').focus();
      return;
    }
    if (action === 'kill' && !reason) {
      say('A reason is required to kill a flag.', false);
      $('#reason').focus();
      return;
    }
    button.disabled = true;
    try {
      const response = await fetch('/v1/flags/' + encodeURIComponent(flag) + '/' + action, {
        method: 'POST',
        headers: { Authorization: 'Bearer ' + token, 'Content-Type': 'application/json' },
        body: action === 'kill' ? JSON.stringify({ reason: reason }) : '{}',
      });
      const body = await response.json().catch(() => ({}));
      if (response.ok) {
        say((action === 'kill' ? 'Killed ' : 'Revived ') + flag + ' (version ' + body.version + ').', true);
        if (action === 'kill') $('#reason').value = '';
      } else {
        say(response.status + ': ' + (body.error || response.statusText), false);
      }
    } catch (e) {
      say('The request failed: ' + e, false);
    } finally {
      button.disabled = false;
      await refresh();
    }
  }

  document.addEventListener('click', (event) => {
    const button = event.target.closest('button.act');
    if (button) act(button);
  });
  $('#search').addEventListener('input', applySearch);
  setInterval(() => {
    if (!document.hidden) refresh();
  }, 5000);
  applySearch();
})();
