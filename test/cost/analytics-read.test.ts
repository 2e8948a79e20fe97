import t from 'tap';
import { cutZones, pieces } from '../../src/cost/analytics-read.js';

const H = 3_600_000;

t.test('a range is split so that no coarse window straddles an edge', async (t) => {
  t.same(pieces(10 * H, 20 * H - 1, H), [[10 * H, 20 * H - 1, H]], 'hour-aligned: one piece at the hint');
  t.same(pieces(10 * H + 5, 20 * H + 7, H), [[10 * H + 5, 11 * H - 1, 1], [11 * H, 20 * H - 1, H], [20 * H, 20 * H + 7, 1]], 'edges inside windows: read fine, whole hours coarse');
  t.same(pieces(10 * H + 5, 20 * H, H), [[10 * H + 5, 11 * H - 1, 1], [11 * H, 20 * H - 1, H], [20 * H, 20 * H, 1]], 'an end on a window start keeps that millisecond');
  t.same(pieces(10 * H + 5, 10 * H + 99, H), [[10 * H + 5, 10 * H + 99, 1]], 'no whole window inside: all fine');
  t.same(pieces(7, 99, 1), [[7, 99, 1]], 'hint 1: one piece');
});

t.test('coarse windows straddling a trend bucket start are read apart', async (t) => {
  t.same(cutZones(10 * H, 20 * H - 1, H, [12 * H + 5, 13 * H, 14 * H + 1, 14 * H + 9]), [[12 * H, 13 * H - 1], [14 * H, 15 * H - 1]], 'aligned cuts need nothing; one zone per straddled window');
  t.same(cutZones(10 * H, 20 * H - 1, H, [9 * H + 5, 25 * H + 5]), [], 'cuts outside the coarse part are ignored');
  t.same(cutZones(10 * H, 20 * H - 1, 1, [12 * H + 5]), [], 'hint 1 reads the finest tier already');
});
