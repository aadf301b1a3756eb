//! The SVG charts of `hive-compare` (plotters, SVG backend only).
//!
//! - [`compare_chart`]: one panel per workload; in each, one group of bars per scheduler
//!   count, one bar per language (Hive, BEAM, Go), normalised to the BEAM (BEAM = 1) since
//!   the workloads' units differ. Every bar is "how many times better than the BEAM"
//!   ([`crate::compare::advantage`]): the rate ratio, or BEAM / figure for the figures where
//!   lower is better, so a taller bar is always better. Log scale.
//! - [`scaling_chart`]: one panel per workload, the median main figure against the
//!   scheduler count, one line per language.

use std::path::Path;

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use crate::compare::{advantage, lang_title, Group, LANGS};
use crate::report::{human, sig, Lang};

/// Width and height of one panel, pixels.
const PANEL: (u32, u32) = (330, 270);
/// Height of the title and legend strip, pixels.
const HEADER: u32 = 64;
/// The narrowest chart, pixels (room for the notes in the header).
const MIN_WIDTH: u32 = 800;
/// Ratios are drawn within [1/CLAMP, CLAMP].
const CLAMP: f64 = 1000.0;

/// The colour of a language's bars and lines.
pub fn color(lang: Lang) -> RGBColor {
    match lang {
        Lang::Hive => RGBColor(230, 126, 34),
        Lang::Erlang => RGBColor(155, 48, 140),
        Lang::Go => RGBColor(0, 150, 200),
    }
}

fn err<E: std::fmt::Debug>(e: E) -> String {
    format!("{e:?}")
}

/// The workloads of `groups`, in order of first appearance.
fn workload_names(groups: &[Group]) -> Vec<&'static str> {
    let mut v: Vec<&'static str> = Vec::new();
    for g in groups {
        if !v.contains(&g.workload.name) {
            v.push(g.workload.name);
        }
    }
    v
}

/// One bar of the comparison chart.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    /// Index of the scheduler count (the bar group within the panel).
    pub slot: usize,
    /// The language.
    pub lang: Lang,
    /// How many times better than the reference language (may be infinite).
    pub value: f64,
}

/// The bars of one workload's panel: for each scheduler count, for each language with a
/// median, its advantage over `reference` at that count (the reference's own bar is 1).
pub fn panel_bars(
    groups: &[Group],
    workload: &str,
    schedulers: &[u32],
    reference: Lang,
) -> Vec<Bar> {
    let mut bars = Vec::new();
    for (slot, &s) in schedulers.iter().enumerate() {
        let Some(g) = groups
            .iter()
            .find(|g| g.workload.name == workload && g.schedulers == s)
        else {
            continue;
        };
        for lang in LANGS {
            if let Some(value) = g.advantage(lang, reference) {
                bars.push(Bar { slot, lang, value });
            }
        }
    }
    bars
}

/// The shared log-scale range: from half the smallest to twice the largest finite value,
/// always including 1, within [1/CLAMP, CLAMP].
pub fn ratio_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (1.0f64, 1.0f64);
    for v in values.filter(|v| v.is_finite() && *v > 0.0) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    ((lo / 2.0).max(1.0 / CLAMP), (hi * 2.0).min(CLAMP))
}

/// A ratio's label over its bar: `2.31`, `∞`.
fn bar_label(v: f64) -> String {
    if v.is_infinite() {
        "∞".into()
    } else {
        sig(v, 3)
    }
}

/// Splits the drawing into a header strip and a grid of `n` panels (up to 4 a row).
fn layout(n: usize) -> (u32, u32, usize) {
    let cols = n.clamp(1, 4);
    let rows = n.div_ceil(cols).max(1);
    (
        (PANEL.0 * cols as u32).max(MIN_WIDTH),
        HEADER + PANEL.1 * rows as u32,
        cols,
    )
}

/// Draws the title, lines of notes and a legend of `langs` into the header strip.
fn header(
    area: &DrawingArea<SVGBackend, Shift>,
    title: &str,
    lines: &[&str],
    langs: &[Lang],
) -> Result<(), String> {
    area.draw(&Text::new(
        title.to_string(),
        (12, 6),
        ("sans-serif", 20).into_font().color(&BLACK),
    ))
    .map_err(err)?;
    for (i, line) in lines.iter().enumerate() {
        area.draw(&Text::new(
            line.to_string(),
            (12, 32 + 15 * i as i32),
            ("sans-serif", 12).into_font().color(&RGBColor(80, 80, 80)),
        ))
        .map_err(err)?;
    }
    let (w, _) = area.dim_in_pixel();
    let mut x = w as i32 - 90 * langs.len() as i32 - 10;
    for &lang in langs {
        area.draw(&Rectangle::new(
            [(x, 12), (x + 14, 26)],
            color(lang).filled(),
        ))
        .map_err(err)?;
        area.draw(&Text::new(
            lang_title(lang),
            (x + 20, 12),
            ("sans-serif", 14).into_font().color(&BLACK),
        ))
        .map_err(err)?;
        x += 90;
    }
    Ok(())
}

/// The languages that appear in `groups`, in [`LANGS`] order.
fn langs_present(groups: &[Group]) -> Vec<Lang> {
    LANGS
        .into_iter()
        .filter(|l| groups.iter().any(|g| g.median(*l).is_some()))
        .collect()
}

/// Writes the comparison chart to `path` (see the module doc). `reference` is the
/// language normalised to 1 (the BEAM; Hive when the BEAM column was skipped).
pub fn compare_chart(
    path: &Path,
    groups: &[Group],
    schedulers: &[u32],
    reference: Lang,
    subtitle: &str,
) -> Result<(), String> {
    let names = workload_names(groups);
    let (width, height, cols) = layout(names.len());
    let root = SVGBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (head, body) = root.split_vertically(HEADER);
    let present = langs_present(groups);
    let title = format!(
        "{} relative to {} (= 1; higher is better)",
        present
            .iter()
            .map(|l| lang_title(*l))
            .collect::<Vec<_>>()
            .join(", "),
        lang_title(reference)
    );
    let note = if groups.iter().any(|g| g.workload.lower_is_better) {
        format!(
            "↓: a figure where lower is better, drawn as {} / figure",
            lang_title(reference)
        )
    } else {
        String::new()
    };
    header(&head, &title, &[subtitle, &note], &present)?;
    let all: Vec<Vec<Bar>> = names
        .iter()
        .map(|n| panel_bars(groups, n, schedulers, reference))
        .collect();
    let (lo, hi) = ratio_range(all.iter().flatten().map(|b| b.value));
    let rows = names.len().div_ceil(cols).max(1);
    let panels = body.split_evenly((rows, cols));
    let slots = schedulers.len().max(1);
    for ((name, bars), panel) in names.iter().zip(&all).zip(panels.iter()) {
        let size = groups
            .iter()
            .find(|g| g.workload.name == *name)
            .map(|g| g.size.clone())
            .unwrap_or_default();
        let unit = groups
            .iter()
            .find(|g| g.workload.name == *name)
            .map(|g| {
                let down = if g.workload.lower_is_better {
                    " ↓"
                } else {
                    ""
                };
                format!("{}{down}", g.workload.rate_unit)
            })
            .unwrap_or_default();
        let mut chart = ChartBuilder::on(panel)
            .caption(format!("{name} {size} ({unit})"), ("sans-serif", 14))
            .margin(8)
            .x_label_area_size(22)
            .y_label_area_size(44)
            .build_cartesian_2d(-0.5f64..(slots as f64 - 0.5), (lo..hi).log_scale())
            .map_err(err)?;
        let label = |x: &f64| -> String {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 0.0 && (i as usize) < schedulers.len() {
                format!("{} sched", schedulers[i as usize])
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .disable_x_mesh()
            .x_labels(slots.max(2))
            .x_label_formatter(&label)
            .y_labels(6)
            .y_label_formatter(&|y| format!("{}×", sig(*y, 2)))
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(err)?;
        // The reference line at 1.
        chart
            .draw_series(LineSeries::new(
                [(-0.5, 1.0), (slots as f64 - 0.5, 1.0)],
                RGBColor(120, 120, 120).stroke_width(1),
            ))
            .map_err(err)?;
        if bars.is_empty() {
            chart
                .draw_series(std::iter::once(Text::new(
                    format!("no ratio to {}", lang_title(reference)),
                    ((slots as f64 - 1.0) / 2.0, 1.0),
                    ("sans-serif", 12)
                        .into_font()
                        .color(&RGBColor(80, 80, 80))
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                )))
                .map_err(err)?;
        }
        let present: Vec<Lang> = LANGS
            .into_iter()
            .filter(|l| bars.iter().any(|b| b.lang == *l))
            .collect();
        let per = present.len().max(1) as f64;
        let width = 0.8 / per;
        for b in bars {
            let k = present.iter().position(|l| *l == b.lang).unwrap_or(0) as f64;
            let x0 = b.slot as f64 - 0.4 + k * width;
            let x1 = x0 + width * 0.9;
            let top = b.value.clamp(lo, hi);
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(x0, lo), (x1, top)],
                    color(b.lang).filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    bar_label(b.value),
                    ((x0 + x1) / 2.0, top),
                    ("sans-serif", 10)
                        .into_font()
                        .color(&BLACK)
                        .pos(Pos::new(HPos::Center, VPos::Bottom)),
                )))
                .map_err(err)?;
        }
    }
    root.present().map_err(err)?;
    Ok(())
}

/// Writes the scaling chart to `path`: one panel per workload, the median main figure
/// (in the workload's unit) against the scheduler count, a line per language.
pub fn scaling_chart(
    path: &Path,
    groups: &[Group],
    schedulers: &[u32],
    subtitle: &str,
) -> Result<(), String> {
    let names = workload_names(groups);
    let (width, height, cols) = layout(names.len());
    let root = SVGBackend::new(path, (width, height)).into_drawing_area();
    root.fill(&WHITE).map_err(err)?;
    let (head, body) = root.split_vertically(HEADER);
    header(
        &head,
        "Scaling with the scheduler count (median of the runs)",
        &[subtitle],
        &langs_present(groups),
    )?;
    let rows = names.len().div_ceil(cols).max(1);
    let panels = body.split_evenly((rows, cols));
    let x_min = schedulers.iter().copied().min().unwrap_or(1) as f64;
    let x_max = schedulers.iter().copied().max().unwrap_or(1) as f64;
    for (name, panel) in names.iter().zip(panels.iter()) {
        let of_w: Vec<&Group> = groups.iter().filter(|g| g.workload.name == *name).collect();
        let Some(first) = of_w.first() else { continue };
        let w = first.workload;
        let lines: Vec<(Lang, Vec<(f64, f64)>)> = LANGS
            .into_iter()
            .map(|lang| {
                let mut pts: Vec<(f64, f64)> = of_w
                    .iter()
                    .filter_map(|g| Some((g.schedulers as f64, g.median(lang)?)))
                    .collect();
                pts.sort_by(|a, b| a.0.total_cmp(&b.0));
                (lang, pts)
            })
            .filter(|(_, pts)| !pts.is_empty())
            .collect();
        let y_max = lines
            .iter()
            .flat_map(|(_, p)| p.iter().map(|(_, y)| *y))
            .fold(0.0f64, f64::max);
        let y_max = if y_max > 0.0 { y_max * 1.15 } else { 1.0 };
        let mut chart = ChartBuilder::on(panel)
            .caption(
                format!(
                    "{} {} ({}{})",
                    w.name,
                    first.size,
                    w.rate_unit,
                    if w.lower_is_better {
                        ", lower is better"
                    } else {
                        ""
                    }
                ),
                ("sans-serif", 14),
            )
            .margin(8)
            .x_label_area_size(30)
            .y_label_area_size(48)
            .build_cartesian_2d((x_min - 0.3)..(x_max + 0.3), 0f64..y_max)
            .map_err(err)?;
        let xl = |x: &f64| -> String {
            let i = x.round();
            if (x - i).abs() < 1e-6 && i >= 1.0 {
                format!("{i:.0}")
            } else {
                String::new()
            }
        };
        chart
            .configure_mesh()
            .x_labels(((x_max - x_min) as usize + 1).clamp(2, 16))
            .x_label_formatter(&xl)
            .x_desc("schedulers")
            .max_light_lines(1)
            .y_label_formatter(&|y| human(*y))
            .label_style(("sans-serif", 11))
            .draw()
            .map_err(err)?;
        for (lang, pts) in &lines {
            let c = color(*lang);
            chart
                .draw_series(LineSeries::new(pts.iter().copied(), c.stroke_width(2)))
                .map_err(err)?;
            chart
                .draw_series(pts.iter().map(|&p| Circle::new(p, 3, c.filled())))
                .map_err(err)?;
        }
    }
    root.present().map_err(err)?;
    Ok(())
}

/// How many times better each language is at each scheduler count than at the first
/// (used by the tests; the scaling table prints the last against the first).
pub fn speedups(groups: &[Group], workload: &str, lang: Lang) -> Vec<(u32, f64)> {
    let of_w: Vec<&Group> = groups
        .iter()
        .filter(|g| g.workload.name == workload)
        .collect();
    let Some(base) = of_w.first().and_then(|g| g.median(lang)) else {
        return Vec::new();
    };
    of_w.iter()
        .filter_map(|g| {
            let m = g.median(lang)?;
            Some((
                g.schedulers,
                advantage(m, base, g.workload.lower_is_better)?,
            ))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compare::groups;
    use crate::report::RunRecord;
    use crate::workload::by_name;
    use crate::ResultLine;

    fn rec(lang: Lang, name: &str, sched: u32, line: &str) -> RunRecord {
        let w = by_name(name).unwrap();
        RunRecord {
            lang,
            workload: w,
            schedulers: sched,
            run: 1,
            args: w.quick_args.to_vec(),
            outcome: Ok(ResultLine::parse(&format!(
                "RESULT lang={} name={name} schedulers={sched} {line}",
                lang.key()
            ))
            .unwrap()),
            wall_s: 0.1,
            page_fault_us: None,
        }
    }

    fn records() -> Vec<RunRecord> {
        let ring = |r: u64| format!("n=100 m=100 seconds=1 hops_per_s={r} ns_per_hop=1 cpu_s=0");
        let idle = |p: f64| format!("n=10000 window_s=0.2 idle_cpu_s=0 idle_cpu_pct={p}");
        vec![
            rec(Lang::Hive, "ring", 1, &ring(6_000_000)),
            rec(Lang::Erlang, "ring", 1, &ring(3_000_000)),
            rec(Lang::Go, "ring", 1, &ring(4_000_000)),
            rec(Lang::Hive, "ring", 2, &ring(9_000_000)),
            rec(Lang::Erlang, "ring", 2, &ring(3_000_000)),
            rec(Lang::Hive, "idle", 2, &idle(0.0)),
            rec(Lang::Erlang, "idle", 2, &idle(5.0)),
        ]
    }

    #[test]
    fn bars_and_range() {
        let r = records();
        let gs = groups(
            &r,
            &[by_name("ring").unwrap(), by_name("idle").unwrap()],
            &[1, 2],
        );
        let bars = panel_bars(&gs, "ring", &[1, 2], Lang::Erlang);
        let v: Vec<(usize, Lang, f64)> = bars.iter().map(|b| (b.slot, b.lang, b.value)).collect();
        assert_eq!(
            v,
            vec![
                (0, Lang::Hive, 2.0),
                (0, Lang::Erlang, 1.0),
                (0, Lang::Go, 4.0 / 3.0),
                (1, Lang::Hive, 3.0),
                (1, Lang::Erlang, 1.0),
            ]
        );
        // idle: lower is better, Hive's 0 % against 5 % is infinitely better.
        let idle = panel_bars(&gs, "idle", &[1, 2], Lang::Erlang);
        assert_eq!(idle[0].value, f64::INFINITY);
        assert_eq!(bar_label(idle[0].value), "∞");
        let (lo, hi) = ratio_range([0.25, 3.0, f64::INFINITY].into_iter());
        assert_eq!((lo, hi), (0.125, 6.0));
        assert_eq!(ratio_range([1e-9, 1e9].into_iter()), (1e-3, 1e3));
        assert_eq!(ratio_range(std::iter::empty()), (0.5, 2.0));
        assert_eq!(speedups(&gs, "ring", Lang::Hive), vec![(1, 1.0), (2, 1.5)]);
        assert_eq!(layout(14), (4 * PANEL.0, HEADER + 4 * PANEL.1, 4));
        assert_eq!(layout(2), (MIN_WIDTH, HEADER + PANEL.1, 2));
    }

    #[test]
    fn writes_svg_files() {
        let r = records();
        let gs = groups(
            &r,
            &[by_name("ring").unwrap(), by_name("idle").unwrap()],
            &[1, 2],
        );
        let dir = std::env::temp_dir().join(format!("hive-chart-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let c = dir.join("compare.svg");
        compare_chart(&c, &gs, &[1, 2], Lang::Erlang, "test run").unwrap();
        let svg = std::fs::read_to_string(&c).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..100.min(svg.len())]);
        for text in [
            "ring", "idle", "1 sched", "2 sched", "BEAM", "Go", "3.00", "∞",
        ] {
            assert!(svg.contains(text), "no {text:?} in the chart");
        }
        let s = dir.join("scaling.svg");
        scaling_chart(&s, &gs[..2], &[1, 2], "test run").unwrap();
        let svg = std::fs::read_to_string(&s).unwrap();
        assert!(svg.contains("schedulers") && svg.contains("ring"));
        assert!(svg.contains("<circle"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
