/// The console's only assets, embedded: nothing is fetched from anywhere else, so the pages work
/// in the air gap and the Content-Security-Policy can allow `'self'` alone. The report inlines the
/// same style sheet.
public enum ConsoleAssets {
    /// The style sheet (served at `/assets/console.css`, inlined in a report).
    public static let css = """
        :root { color-scheme: light; --ink: #1d2430; --muted: #5b6472; --line: #d7dce3; --bg: #f6f7f9;
          --ok: #1e7a3c; --warn: #9a6400; --bad: #b3261e; --run: #59606b; --model: #2f5fb3;
          --policy: #7a3fb0; --approval: #b35f00; --tool: #1e7a6e; }
        * { box-sizing: border-box; }
        body { margin: 0; font: 14px/1.45 system-ui, sans-serif; color: var(--ink); background: var(--bg); }
        header.top { display: flex; gap: 1.5em; align-items: center; padding: .6em 1.2em; background: #fff;
          border-bottom: 1px solid var(--line); }
        header.top nav a { margin-right: 1em; }
        header.top .who { margin-left: auto; color: var(--muted); }
        header.top form { display: inline; }
        main { padding: 1em 1.2em; max-width: 1200px; }
        a { color: var(--model); }
        h1 { font-size: 1.3em; margin: .2em 0 .4em; word-break: break-all; }
        h2 { font-size: 1.1em; margin: 1.2em 0 .4em; }
        table { border-collapse: collapse; width: 100%; background: #fff; }
        th, td { text-align: left; padding: .3em .5em; border-bottom: 1px solid var(--line); vertical-align: top; }
        th { font-weight: 600; color: var(--muted); }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: .4em 0; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; word-break: break-all; }
        .badge { display: inline-block; padding: .05em .5em; border-radius: .7em; font-size: .9em; color: #fff; }
        .badge-intact { background: var(--ok); }
        .badge-incomplete { background: var(--warn); }
        .badge-broken { background: var(--bad); }
        .banner { padding: .5em .8em; border-radius: .3em; color: #fff; margin: .4em 0; }
        .banner-intact { background: var(--ok); }
        .banner-incomplete { background: var(--warn); }
        .banner-broken { background: var(--bad); }
        .verdict-ok { color: var(--ok); }
        .verdict-flag { color: var(--bad); }
        .invalid { color: var(--bad); font-weight: 600; }
        .lanes-head, .event .lanes { display: grid; grid-template-columns: repeat(5, 4.4em); flex: none; }
        .lanes-head { color: var(--muted); margin-left: .3em; }
        .lanes-head span { font-size: .72em; text-align: center; overflow: hidden; }
        ol.timeline { list-style: none; margin: 0; padding: 0; }
        .event { display: flex; gap: .6em; align-items: flex-start; padding: .15em .3em;
          border-bottom: 1px solid var(--line); background: #fff; }
        .event .lanes i { display: block; height: 1.2em; margin: .1em .9em; border-left: 2px solid var(--line); }
        .event .lanes i.on { border-left: none; border-radius: .6em; }
        .lane-run .lanes i.on { background: var(--run); }
        .lane-model .lanes i.on { background: var(--model); }
        .lane-policy .lanes i.on { background: var(--policy); }
        .lane-approval .lanes i.on { background: var(--approval); }
        .lane-tool .lanes i.on { background: var(--tool); }
        .event details { flex: 1; min-width: 0; }
        .event summary { cursor: pointer; white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
        .event summary .seq { color: var(--muted); display: inline-block; min-width: 3.2em; }
        .event summary .offset { color: var(--muted); display: inline-block; min-width: 7em; }
        .event summary .type { font-weight: 600; display: inline-block; min-width: 10em; }
        .event .body { padding: .3em 0 .6em; }
        .event .body h4 { margin: .5em 0 .1em; font-size: .9em; color: var(--muted); }
        pre { margin: 0; padding: .4em .6em; background: var(--bg); border: 1px solid var(--line);
          white-space: pre-wrap; word-break: break-word; max-height: 40em; overflow: auto; font-size: .92em; }
        ul.details { margin: .2em 0; padding-left: 1.2em; }
        .hash { color: var(--muted); font-size: .85em; word-break: break-all; }
        form.inline { display: flex; gap: .5em; align-items: center; flex-wrap: wrap; margin: .4em 0; }
        input[type=text], input[type=password], textarea, select { font: inherit; padding: .2em .4em; }
        textarea { width: 100%; min-height: 4em; }
        button { font: inherit; padding: .2em .8em; cursor: pointer; }
        .error { color: var(--bad); font-weight: 600; }
        .notice { color: var(--ok); font-weight: 600; }
        .muted { color: var(--muted); }
        .diff-only { background: #fff4e5; }
        .side-by-side { display: grid; grid-template-columns: 1fr 1fr; gap: 1em; }
        table.steps { table-layout: fixed; }
        table.steps th:first-child, table.steps td:first-child { width: 3em; color: var(--muted); }
        ol.step { list-style: none; margin: 0; padding: 0; }
        ol.step .event { border-bottom: none; padding: 0; background: none; }
        ol.step .event .lanes { grid-template-columns: repeat(5, 1.1em); }
        ol.step .event .lanes i { margin: .1em .3em; }
        ol.step .event .type { font-weight: 600; }
        ol.step .event .text { flex: 1; min-width: 0; overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
        """

    /// The console's script (served at `/assets/console.js`): an event's content fetched from the
    /// console when it opens (its `data-content` page's `#event-body`), and expand or collapse
    /// every event (Expand all first fetches the page with every content). The pages work without
    /// it (each event links to its content; the run page has a link to every content); a report
    /// has none.
    public static let javascript = """
        document.addEventListener('DOMContentLoaded', function () {
          function page(url) {
            return fetch(url, { credentials: 'same-origin' }).then(function (response) {
              if (!response.ok) { throw new Error('HTTP ' + response.status); }
              return response.text();
            }).then(function (html) { return new DOMParser().parseFromString(html, 'text/html'); });
          }
          function open(details) {
            var url = details.getAttribute('data-content');
            if (!url || details.hasAttribute('data-state')) { return; }
            details.setAttribute('data-state', 'opening');
            var target = details.querySelector('.body');
            page(url).then(function (fetched) {
              var body = fetched.getElementById('event-body');
              if (!body) { throw new Error('no content'); }
              target.replaceChildren.apply(target, Array.from(body.childNodes).map(function (node) {
                return document.importNode(node, true);
              }));
              details.setAttribute('data-state', 'open');
            }).catch(function (error) {
              details.removeAttribute('data-state');
              target.textContent = 'This event could not be opened (' + error.message + '): reload the page.';
            });
          }
          document.querySelectorAll('ol.timeline details[data-content]').forEach(function (details) {
            details.addEventListener('toggle', function () { if (details.open) { open(details); } });
          });
          document.querySelectorAll('button[data-expand]').forEach(function (button) {
            button.hidden = false;
            button.addEventListener('click', function () {
              var opening = button.getAttribute('data-expand') === 'all';
              var timeline = document.querySelector('ol.timeline');
              function apply() {
                document.querySelectorAll('ol.timeline > li > details').forEach(function (d) { d.open = opening; });
              }
              if (!opening || !timeline.querySelector('details[data-content]')) { apply(); return; }
              button.disabled = true;
              page(location.pathname + '?content=all').then(function (fetched) {
                var whole = fetched.querySelector('ol.timeline');
                if (!whole) { throw new Error('no timeline'); }
                timeline.replaceWith(document.importNode(whole, true));
                apply();
              }).catch(function (error) {
                button.textContent = 'Expand all (failed: ' + error.message + ')';
              }).finally(function () { button.disabled = false; });
            });
          });
        });
        """
}
