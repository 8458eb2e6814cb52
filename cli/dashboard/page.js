// What every tab script of the dashboard draws with, loaded before them: the page's elements by id, text
// put in as text (never as HTML), short names with the whole one on hover, and times in UTC, zone written.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  function span(text, className, title) {
    const node = document.createElement('span');
    node.className = className;
    node.textContent = text;
    if (title) node.title = title;
    return node;
  }

  const lastPart = (arn) => arn.slice(arn.lastIndexOf('/') + 1);

  /** `2026-05-04T10:21:07.000Z` -> `2026-05-04 10:21:07 UTC`: every time on the page (and in the CLI). */
  const utc = (iso) => `${iso.slice(0, 19).replace('T', ' ')} UTC`;

  /** A time as the page shows it, the instant itself in `datetime`. */
  function timeElement(iso) {
    const node = document.createElement('time');
    node.dateTime = iso;
    node.textContent = utc(iso);
    return node;
  }

  window.ecsReflexPage = Object.freeze({ $, span, lastPart, utc, timeElement });
})();
