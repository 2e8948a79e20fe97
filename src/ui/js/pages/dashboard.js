// A dashboard view: a grid of panels from views.js, each loaded on its own so one slow or
// failing query never blanks the others. A refresh draws the new body off-screen and swaps it
// in, so charts do not flicker.
import { VIEWS } from '../views.js';
import { el } from '../format.js';
import { loadPanel } from '../panels.js';

/** renderDashboard draws view `id` into `root`; resolves when every panel has settled. */
export async function renderDashboard(root, id, ctx) {
  const view = VIEWS[id];
  let grid = root.querySelector(`.grid[data-view="${id}"]`);
  if (!grid) {
    root.replaceChildren(
      el('div', { class: 'banner', hidden: true }),
      grid = el('div', { class: 'grid', 'data-view': id }, view.panels.map((p) =>
        el('section', { class: p.wide ? 'panel wide' : 'panel', 'data-panel': p.id },
          el('h2', {}, p.title), el('div', { class: 'body' }, el('div', { class: 'loading' }, 'loading…'))))),
    );
  }
  const outcomes = await Promise.all(view.panels.map(async (p) => {
    const section = grid.querySelector(`[data-panel="${p.id}"]`);
    const old = section.querySelector('.body:not(.next)');
    const body = el('div', { class: 'body next' });
    section.append(body);
    let res;
    try {
      res = await loadPanel(body, p, ctx);
      section.dataset.state = res.empty ? 'empty' : 'ok';
    } catch (e) {
      if (ctx.signal.aborted) {
        body.remove();
        return null;
      }
      body.replaceChildren(el('div', { class: 'error' }, e.type ? `${e.type}: ${e.message}` : String(e.message ?? e)));
      section.dataset.state = 'error';
      res = { empty: false };
    }
    if (ctx.signal.aborted) {
      res.destroy?.();
      body.remove();
      return null;
    }
    old?._destroy?.();
    old?.remove();
    body.classList.remove('next');
    body._destroy = res.destroy;
    return { panel: p, ...res };
  }));
  if (ctx.signal.aborted) return;
  const banner = root.querySelector('.banner');
  const counted = outcomes.filter((o) => o && !o.panel.emptyIsGood);
  const allEmpty = counted.length > 0 && counted.every((o) => o.empty);
  banner.hidden = !allEmpty;
  banner.replaceChildren(...(allEmpty ? [el('strong', {}, `No ${view.title} data yet.`), ' Send a first point:', el('code', {}, view.hint)] : []));
}

/** destroyDashboard releases the charts of the current view. */
export function destroyDashboard(root) {
  for (const b of root.querySelectorAll('.body')) b._destroy?.();
}
