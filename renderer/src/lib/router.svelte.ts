/**
 * Hash routing (`#/runs/3`): works from file:// in Electron and keeps `?token=` in the query
 * untouched in a browser. One reactive `route`; screens navigate with `go()`.
 */
export type Route =
  | { name: 'datasets' }
  | { name: 'new-run' }
  | { name: 'experiments' }
  | { name: 'compare'; ids: number[] }
  | { name: 'run'; id: number }
  /** `#/scaling`: the Scaling lab's form and past searches; `#/scaling/<id>`: one search. */
  | { name: 'scaling'; id: string | null }
  /** `#/export/7`: the Export screen with run 7 chosen. */
  | { name: 'export'; runId: number | null }
  | { name: 'classify' }
  | { name: 'settings' };

export function parseRoute(hash: string): Route {
  const parts = hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  switch (parts[0]) {
    case 'new-run':
      return { name: 'new-run' };
    case 'experiments':
      return { name: 'experiments' };
    case 'compare': {
      const ids = (parts[1] ?? '')
        .split(',')
        .map(Number)
        .filter((n) => Number.isInteger(n) && n > 0);
      return ids.length >= 2 ? { name: 'compare', ids } : { name: 'experiments' };
    }
    case 'runs': {
      const id = Number(parts[1]);
      return Number.isInteger(id) && id > 0 ? { name: 'run', id } : { name: 'experiments' };
    }
    case 'settings':
      return { name: 'settings' };
    case 'scaling':
      return { name: 'scaling', id: /^[A-Za-z0-9_-]{1,64}$/.test(parts[1] ?? '') ? parts[1]! : null };
    case 'export': {
      const id = Number(parts[1]);
      return { name: 'export', runId: Number.isInteger(id) && id > 0 ? id : null };
    }
    case 'classify':
      return { name: 'classify' };
    default:
      return { name: 'datasets' };
  }
}

export function routeHash(route: Route): string {
  switch (route.name) {
    case 'compare':
      return `#/compare/${route.ids.join(',')}`;
    case 'run':
      return `#/runs/${route.id}`;
    case 'scaling':
      return route.id === null ? '#/scaling' : `#/scaling/${route.id}`;
    case 'export':
      return route.runId === null ? '#/export' : `#/export/${route.runId}`;
    default:
      return `#/${route.name}`;
  }
}

export const router = $state({ route: parseRoute(typeof window === 'undefined' ? '' : window.location.hash) });

export function go(route: Route): void {
  const hash = routeHash(route);
  if (window.location.hash !== hash) window.location.hash = hash;
  router.route = route;
}

export function listenToHash(): () => void {
  const update = () => (router.route = parseRoute(window.location.hash));
  window.addEventListener('hashchange', update);
  return () => window.removeEventListener('hashchange', update);
}
