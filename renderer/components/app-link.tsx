import type { ReactNode } from 'react';
import { useStore } from '../store/store';
import { hashFor, type RouteId } from '../store/ui-slice';

/** A link to a page of the app: a real href (open in a new tab, copy the address) that navigates in place on a click. */
export function AppLink({ route, param, path, className = 'row-link', children }: { route: RouteId; param: string; path?: string[]; className?: string; children: ReactNode }) {
  const go = useStore((s) => s.go);
  return (
    <a
      className={className}
      href={hashFor(route, param, path)}
      onClick={(e) => {
        e.preventDefault();
        go(route, param, path);
      }}
    >
      {children}
    </a>
  );
}
