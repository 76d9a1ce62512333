// Figure 1 of the paper: whether the client kept l requests in flight (l_m against l), and how many got past the
// TCP handshake, the load the server really held (flat near the backlog when the accept queue overflows).
import { CLIENT_BOUND_SHARE } from '../model.js';
import { colour, frame, type Figure } from './frame.js';
import { perServerLines, type Closed } from './lines.js';

export function measuredLoadFigure({ layout, servers, plain, columns, x }: Closed): Figure {
  const maxLoad = Math.max(0, ...servers.flatMap((s) => s.loads.map((lp) => lp.load)));
  return {
    name: 'fig1-measured-load',
    title: 'Figure 1: measured load against offered load',
    caption: `Lines: the measured load l_m = n·t_r/t, how many requests the client kept in flight; a line on the dashed y = x was saturated by the client, and points under ${CLIENT_BOUND_SHARE * 100}% of it are flagged client-bound. Hollow dots: the requests in flight past their TCP handshake, the load the server really held. When the accept queue overflows (the paper's somaxconn trap, --backlog 128), requests wait a second or more for a resent SYN: l_m still follows l, but the hollow dots flatten near the backlog, as the paper's Figure 1(a) did, and those points are flagged backlog-bound.`,
    spec: frame(
      layout,
      'Figure 1: measured load against offered load',
      'dashed: y = x, the ideal; hollow: in flight past the TCP handshake',
      [
        {
          data: {
            values: [
              { load: 0, y: 0 },
              { load: maxLoad, y: maxLoad },
            ],
          },
          mark: { type: 'line', color: '#888', strokeDash: [6, 4], strokeWidth: 1.5 },
          encoding: { x, y: { field: 'y', type: 'quantitative' } },
        },
        ...perServerLines(layout, servers, plain, (lp) => lp.measuredLoad, 'measured load l_m', 'server', columns),
        {
          data: {
            values: servers.flatMap((s) =>
              s.loads
                .filter((lp) => lp.connectedLoad !== null)
                .map((lp) => ({ key: plain.get(s.server)!, load: lp.load, y: lp.connectedLoad })),
            ),
          },
          mark: { type: 'point', filled: false, size: layout === 'wide' ? 40 : 24, strokeWidth: 1.5, clip: true },
          encoding: {
            x,
            y: { field: 'y', type: 'quantitative' },
            color: colour([...plain.values()], 'server', columns, layout === 'narrow'),
          },
        },
      ],
    ),
  };
}
