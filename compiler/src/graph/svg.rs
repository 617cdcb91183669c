//! A standalone SVG, laid out here so no external tool is needed: each flow is a column
//! read top to bottom (triggers side by side, then one step per row, then the error
//! node); columns stand left to right with a flow's `after` dependants next to it, each
//! dependant lowered so its `after` trigger sits level with the step it waits for.
//!
//! Sizes come from a monospace estimate (7 px per character at 12 px), so the picture is
//! the same on every machine; all coordinates are whole pixels.

use std::fmt::Write as _;

use super::{EdgeKind, FlowView, Node, NodeKind, View};
use crate::xml::escape as xml;

const CHAR_W: i64 = 7;
const LINE_H: i64 = 16;
const PAD_X: i64 = 12;
const PAD_Y: i64 = 8;
const MIN_W: i64 = 96;
const ROW_GAP: i64 = 36;
const TRIGGER_GAP: i64 = 16;
const COLUMN_GAP: i64 = 72;
const MARGIN: i64 = 24;
const TITLE_H: i64 = 28;
const TITLE_CHAR_W: i64 = 8;

const FONT: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', monospace";
const TITLE_FONT: &str = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";
const INK: &str = "#0f172a";
const MUTED: &str = "#475569";
const ERROR: &str = "#b91c1c";
const AFTER: &str = "#4338ca";

/// A placed node: top-left corner and size.
#[derive(Clone, Copy)]
struct Rect {
    x: i64,
    y: i64,
    w: i64,
    h: i64,
    row: usize,
}

impl Rect {
    fn cx(&self) -> i64 {
        self.x + self.w / 2
    }
    fn cy(&self) -> i64 {
        self.y + self.h / 2
    }
    fn right(&self) -> i64 {
        self.x + self.w
    }
    fn bottom(&self) -> i64 {
        self.y + self.h
    }
}

/// One flow laid out in its own coordinates (origin at its top-left corner).
struct Column {
    rects: Vec<Rect>,
    /// Nodes of each row, left to right.
    rows: Vec<Vec<usize>>,
    width: i64,
    height: i64,
}

pub(super) fn render(view: &View) -> String {
    let columns: Vec<Column> = view.flows.iter().map(layout_flow).collect();
    let order = column_order(view);

    // Place columns left to right; lower each so its `after` trigger is level with the
    // exit step of a flow already placed to its left.
    let mut origin: Vec<(i64, i64)> = vec![(0, 0); columns.len()];
    let mut x = MARGIN;
    let mut placed = vec![false; columns.len()];
    for &c in &order {
        let Some(column) = columns.get(c) else {
            continue;
        };
        let mut dy = 0;
        for link in view.links.iter().filter(|l| l.to_flow == c) {
            if !placed.get(link.from_flow).copied().unwrap_or(false) {
                continue;
            }
            let (Some(source), Some(&(_, sy))) =
                (columns.get(link.from_flow), origin.get(link.from_flow))
            else {
                continue;
            };
            let (Some(exit), Some(trigger)) = (
                source.rects.get(link.from_node),
                column.rects.get(link.to_node),
            ) else {
                continue;
            };
            dy = dy.max(sy - MARGIN + exit.cy() - trigger.cy());
        }
        if let Some(slot) = origin.get_mut(c) {
            *slot = (x, MARGIN + dy);
        }
        if let Some(p) = placed.get_mut(c) {
            *p = true;
        }
        x += column.width + COLUMN_GAP;
    }
    let width = (x - COLUMN_GAP + MARGIN).max(2 * MARGIN + MIN_W);
    let height = columns
        .iter()
        .zip(&origin)
        .map(|(c, (_, y))| y + c.height + MARGIN)
        .max()
        .unwrap_or(2 * MARGIN);

    // Absolute rectangles, per flow.
    let absolute: Vec<Vec<Rect>> = columns
        .iter()
        .zip(&origin)
        .map(|(c, &(ox, oy))| {
            c.rects
                .iter()
                .map(|r| Rect {
                    x: r.x + ox,
                    y: r.y + oy,
                    ..*r
                })
                .collect()
        })
        .collect();

    let title = match view.flows.as_slice() {
        [only] => only.title(),
        _ => "weft flows".to_string(),
    };
    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" viewBox=\"0 0 {width} {height}\" font-family=\"{FONT}\" font-size=\"12\">"
    );
    let _ = writeln!(out, "<title>{}</title>", xml(&title));
    out.push_str("<defs>\n");
    for (id, colour) in [
        ("arrow", MUTED),
        ("arrow-error", ERROR),
        ("arrow-after", AFTER),
    ] {
        let _ = writeln!(
            out,
            "  <marker id=\"{id}\" viewBox=\"0 0 10 10\" refX=\"10\" refY=\"5\" markerWidth=\"8\" markerHeight=\"8\" orient=\"auto-start-reverse\"><path d=\"M 0 0 L 10 5 L 0 10 z\" fill=\"{colour}\"/></marker>"
        );
    }
    out.push_str("</defs>\n");
    let _ = writeln!(
        out,
        "<rect x=\"0\" y=\"0\" width=\"{width}\" height=\"{height}\" fill=\"#ffffff\"/>"
    );

    for link in &view.links {
        let (Some(from), Some(to)) = (
            absolute
                .get(link.from_flow)
                .and_then(|r| r.get(link.from_node)),
            absolute.get(link.to_flow).and_then(|r| r.get(link.to_node)),
        ) else {
            continue;
        };
        let leftmost = columns
            .get(link.to_flow)
            .and_then(|c| c.rows.get(to.row))
            .and_then(|row| row.first())
            == Some(&link.to_node);
        let d = link_path(from, to, leftmost, link.from_flow == link.to_flow);
        let _ = writeln!(
            out,
            "<path class=\"after\" d=\"{d}\" fill=\"none\" stroke=\"{AFTER}\" stroke-width=\"1.6\" marker-end=\"url(#arrow-after)\"/>"
        );
    }

    for (f, flow) in view.flows.iter().enumerate() {
        let (Some(rects), Some(&(ox, oy))) = (absolute.get(f), origin.get(f)) else {
            continue;
        };
        let _ = writeln!(out, "<g class=\"flow\" id=\"flow-{f}\">");
        let _ = writeln!(
            out,
            "  <text x=\"{}\" y=\"{}\" font-family=\"{TITLE_FONT}\" font-size=\"14\" font-weight=\"bold\" fill=\"{INK}\">{}</text>",
            ox,
            oy + 16,
            xml(&flow.title())
        );
        for edge in &flow.edges {
            let (Some(a), Some(b)) = (rects.get(edge.from), rects.get(edge.to)) else {
                continue;
            };
            let d = edge_path(a, b);
            match edge.kind {
                EdgeKind::Records => {
                    let _ = writeln!(
                        out,
                        "  <path d=\"{d}\" fill=\"none\" stroke=\"{MUTED}\" stroke-width=\"1.2\" marker-end=\"url(#arrow)\"/>"
                    );
                }
                EdgeKind::Error => {
                    let _ = writeln!(
                        out,
                        "  <path d=\"{d}\" fill=\"none\" stroke=\"{ERROR}\" stroke-width=\"1.2\" stroke-dasharray=\"5 4\" marker-end=\"url(#arrow-error)\"/>"
                    );
                    let (lx, ly) = if b.row == a.row + 1 {
                        ((a.cx() + b.cx()) / 2 + 6, (a.bottom() + b.y) / 2 + 4)
                    } else {
                        (a.right().max(b.right()) + 8, (a.cy() + b.cy()) / 2 + 4)
                    };
                    let _ = writeln!(
                        out,
                        "  <text x=\"{lx}\" y=\"{ly}\" font-family=\"{TITLE_FONT}\" font-size=\"10\" fill=\"{ERROR}\">on error</text>"
                    );
                }
            }
        }
        for (node, rect) in flow.nodes.iter().zip(rects) {
            node_svg(&mut out, node, rect);
        }
        out.push_str("</g>\n");
    }
    out.push_str("</svg>\n");
    out
}

fn node_svg(out: &mut String, node: &Node, r: &Rect) {
    let (fill, stroke, dash, radius, class) = match node.kind {
        NodeKind::Trigger => ("#eef2ff", AFTER, "", r.h / 2, "trigger"),
        NodeKind::Read => ("#ecfdf5", "#047857", "", 8, "step read"),
        NodeKind::Call => ("#ecfdf5", "#047857", "", 8, "step call"),
        NodeKind::Write => ("#ecfdf5", "#047857", "", 8, "step write"),
        NodeKind::Where => ("#ffffff", MUTED, "", 8, "step where"),
        NodeKind::Map => ("#ffffff", MUTED, "", 8, "step map"),
        NodeKind::DeadLetter => ("#fef2f2", ERROR, "", 8, "dead-letter"),
        NodeKind::ErrorNote => (
            "#fffbeb",
            "#b45309",
            " stroke-dasharray=\"4 3\"",
            2,
            "error-note",
        ),
    };
    let lines = node.lines();
    let text_lines = node.text_lines();
    let _ = writeln!(out, "  <g class=\"{class}\">");
    let mut tooltip = node.text.clone();
    if let Some(detail) = &node.detail {
        tooltip.push_str(" : ");
        tooltip.push_str(detail);
    }
    let _ = writeln!(out, "    <title>{}</title>", xml(&tooltip));
    let _ = writeln!(
        out,
        "    <rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" rx=\"{radius}\" ry=\"{radius}\" fill=\"{fill}\" stroke=\"{stroke}\" stroke-width=\"1.2\"{dash}/>",
        r.x, r.y, r.w, r.h
    );
    for (i, line) in lines.iter().enumerate() {
        let baseline = r.y + PAD_Y + LINE_H * i as i64 + LINE_H / 2 + 4;
        let style = if i < text_lines {
            format!("fill=\"{INK}\"")
        } else {
            format!("fill=\"{MUTED}\" font-style=\"italic\"")
        };
        let _ = writeln!(
            out,
            "    <text x=\"{}\" y=\"{baseline}\" text-anchor=\"middle\" {style}>{}</text>",
            r.cx(),
            xml(line)
        );
    }
    out.push_str("  </g>\n");
}

/// Straight down to the next row; around the right-hand side to any other row.
fn edge_path(a: &Rect, b: &Rect) -> String {
    if b.row == a.row + 1 {
        format!("M {} {} L {} {}", a.cx(), a.bottom(), b.cx(), b.y)
    } else {
        let bulge = a.right().max(b.right()) + 32;
        format!(
            "M {} {} C {bulge} {}, {bulge} {}, {} {}",
            a.right(),
            a.cy(),
            a.cy(),
            b.cy(),
            b.right(),
            b.cy()
        )
    }
}

/// From the exit step of one flow to the `after` trigger of another.
fn link_path(from: &Rect, to: &Rect, leftmost: bool, same_flow: bool) -> String {
    if same_flow {
        let bulge = from.right().max(to.right()) + 48;
        return format!(
            "M {} {} C {bulge} {}, {bulge} {}, {} {}",
            from.right(),
            from.cy(),
            from.cy(),
            to.cy(),
            to.right(),
            to.cy()
        );
    }
    if to.x >= from.right() {
        let (x1, y1) = (from.right(), from.cy());
        let dx = ((to.x - x1) / 2).max(24);
        if leftmost {
            let (x2, y2) = (to.x, to.cy());
            format!(
                "M {x1} {y1} C {} {y1}, {} {y2}, {x2} {y2}",
                x1 + dx,
                x2 - dx
            )
        } else {
            let (x2, y2) = (to.cx(), to.y);
            format!(
                "M {x1} {y1} C {} {y1}, {x2} {}, {x2} {y2}",
                x1 + dx,
                y2 - 40
            )
        }
    } else {
        // A link back to a column further left: only an `after` cycle draws one.
        let (x1, y1) = (from.x, from.cy());
        let (x2, y2) = (to.right(), to.cy());
        let dx = ((x1 - x2) / 2).max(24);
        format!(
            "M {x1} {y1} C {} {y1}, {} {y2}, {x2} {y2}",
            x1 - dx,
            x2 + dx
        )
    }
}

fn node_size(node: &Node) -> (i64, i64) {
    let lines = node.lines();
    let chars = lines.iter().map(|l| l.chars().count()).max().unwrap_or(0);
    let chars = i64::try_from(chars.min(4096)).unwrap_or(4096);
    let w = (chars * CHAR_W + 2 * PAD_X).max(MIN_W);
    // Even widths keep every node of a column on the same whole-pixel centre line.
    let w = w + w % 2;
    let h = i64::try_from(lines.len()).unwrap_or(1) * LINE_H + 2 * PAD_Y;
    (w, h)
}

fn layout_flow(flow: &FlowView) -> Column {
    // Rows: all triggers together, then each other node on its own.
    let mut rows: Vec<Vec<usize>> = Vec::new();
    let triggers: Vec<usize> = flow
        .nodes
        .iter()
        .enumerate()
        .filter(|(_, n)| n.kind == NodeKind::Trigger)
        .map(|(i, _)| i)
        .collect();
    if !triggers.is_empty() {
        rows.push(triggers);
    }
    for (i, node) in flow.nodes.iter().enumerate() {
        if node.kind != NodeKind::Trigger {
            rows.push(vec![i]);
        }
    }
    let sizes: Vec<(i64, i64)> = flow.nodes.iter().map(node_size).collect();
    let size = |i: usize| sizes.get(i).copied().unwrap_or((MIN_W, LINE_H + 2 * PAD_Y));
    let row_width = |row: &Vec<usize>| {
        row.iter().map(|&i| size(i).0).sum::<i64>()
            + TRIGGER_GAP * (i64::try_from(row.len()).unwrap_or(1) - 1).max(0)
    };
    let title = i64::try_from(flow.title().chars().count()).unwrap_or(0) * TITLE_CHAR_W;
    let width = rows.iter().map(row_width).max().unwrap_or(MIN_W).max(title);

    let mut rects = vec![
        Rect {
            x: 0,
            y: 0,
            w: MIN_W,
            h: LINE_H,
            row: 0,
        };
        flow.nodes.len()
    ];
    let mut y = TITLE_H;
    for (r, row) in rows.iter().enumerate() {
        let mut x = (width - row_width(row)) / 2;
        let mut tallest = 0;
        for &i in row {
            let (w, h) = size(i);
            if let Some(rect) = rects.get_mut(i) {
                *rect = Rect { x, y, w, h, row: r };
            }
            x += w + TRIGGER_GAP;
            tallest = tallest.max(h);
        }
        // Centre shorter nodes of a trigger row vertically.
        for &i in row {
            if let Some(rect) = rects.get_mut(i) {
                rect.y += (tallest - rect.h) / 2;
            }
        }
        y += tallest + ROW_GAP;
    }
    Column {
        rects,
        rows,
        width,
        height: (y - ROW_GAP).max(TITLE_H),
    }
}

/// Flows left to right: each root (a flow not started by another shown flow) in name
/// order, followed depth-first by the flows that run after it, a flow only once all
/// the flows it waits for stand to its left. Flows in an `after` cycle come last.
fn column_order(view: &View) -> Vec<usize> {
    let n = view.flows.len();
    let mut waits_for: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut dependants: Vec<Vec<usize>> = vec![Vec::new(); n];
    for link in &view.links {
        if link.from_flow != link.to_flow {
            if let Some(w) = waits_for.get_mut(link.to_flow) {
                w.push(link.from_flow);
            }
            if let Some(d) = dependants.get_mut(link.from_flow) {
                d.push(link.to_flow);
            }
        }
    }
    for list in dependants.iter_mut() {
        list.sort();
        list.dedup();
    }
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    fn visit(
        f: usize,
        waits_for: &[Vec<usize>],
        dependants: &[Vec<usize>],
        placed: &mut [bool],
        order: &mut Vec<usize>,
    ) {
        let ready = waits_for
            .get(f)
            .is_some_and(|w| w.iter().all(|&p| placed.get(p).copied().unwrap_or(true)));
        if !ready || placed.get(f).copied().unwrap_or(true) {
            return;
        }
        if let Some(p) = placed.get_mut(f) {
            *p = true;
        }
        order.push(f);
        for &d in dependants.get(f).map(Vec::as_slice).unwrap_or(&[]) {
            visit(d, waits_for, dependants, placed, order);
        }
    }
    for f in 0..n {
        if waits_for.get(f).is_some_and(Vec::is_empty) {
            visit(f, &waits_for, &dependants, &mut placed, &mut order);
        }
    }
    for (f, done) in placed.iter().enumerate() {
        if !done {
            order.push(f);
        }
    }
    order
}
