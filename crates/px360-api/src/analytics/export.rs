//! CSV and XLSX exports of the analytics tables the caller can see: the same reports as the
//! JSON endpoints (so the same scope), with headers in English or Arabic (an Arabic workbook's
//! sheet is right-to-left). Every export is audited (`analytics.export`: table, format, period;
//! never the data).

use super::reports::{self, BreakdownQuery};
use super::scope::{self, KpiQuery};
use crate::AppState;
use crate::auth::{Authed, Ctx};
use crate::error::{ApiError, ApiResult};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use px360_domain::event::FieldError;
use px360_domain::rbac::Principal;
use serde::Deserialize;

#[derive(Debug, Clone, Deserialize, utoipa::IntoParams)]
pub struct ExportQuery {
    /// `kpis`, `items`, `breakdown` (with `by`), `physicians` or `complaints`.
    pub table: String,
    /// `csv` (default) or `xlsx`.
    pub format: Option<String>,
    /// Header language: `en` (default) or `ar` (an XLSX sheet is then right-to-left).
    pub lang: Option<String>,
    pub by: Option<String>,
}

/// A table: header keys (translated by [`header`]) and rows of cells.
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<&'static str>,
    pub rows: Vec<Vec<Cell>>,
}

#[derive(Debug, Clone)]
pub enum Cell {
    Text(String),
    Number(Option<f64>),
}

fn num<T: Into<f64>>(v: Option<T>) -> Cell {
    Cell::Number(v.map(Into::into))
}

fn n(v: u64) -> Cell {
    // Counts far below 2^53: exact as f64.
    Cell::Number(Some(v as f64))
}

/// Column headers in the two languages.
pub fn header(key: &str, arabic: bool) -> &'static str {
    const H: [(&str, &str, &str); 24] = [
        ("kpi", "KPI", "المؤشر"),
        ("value", "Value", "القيمة"),
        ("shown", "Shown", "المعروض"),
        ("n", "Observations", "عدد الملاحظات"),
        ("previous", "Previous period", "الفترة السابقة"),
        ("trend", "Trend", "الاتجاه"),
        ("question", "Question", "السؤال"),
        ("scale", "Scale", "المقياس"),
        ("top", "Top box %", "أعلى فئة ٪"),
        ("middle", "Middle box %", "الفئة الوسطى ٪"),
        ("bottom", "Bottom box %", "أدنى فئة ٪"),
        (
            "linear_mean",
            "Linear mean (0-100)",
            "المتوسط الخطي (0-100)",
        ),
        ("key", "Value of the dimension", "قيمة البُعد"),
        ("invitations", "Invitations", "الدعوات"),
        ("responses", "Responses", "الردود"),
        ("response_rate", "Response rate %", "معدل الاستجابة ٪"),
        ("nps", "NPS", "صافي نقاط الترويج"),
        ("csat", "CSAT %", "رضا المرضى ٪"),
        ("physician", "Physician", "الطبيب"),
        ("rank", "Rank in department", "الترتيب في القسم"),
        ("group", "Grouped by", "التجميع حسب"),
        ("received", "Received", "المستلمة"),
        ("resolved", "Resolved", "المحلولة"),
        ("mean_hours", "Mean hours to resolve", "متوسط ساعات الحل"),
    ];
    H.iter()
        .find(|(k, _, _)| *k == key)
        .map(|(_, en, ar)| if arabic { *ar } else { *en })
        .unwrap_or("")
}

fn trend_text(t: &px360_domain::analytics::trend::Trend) -> String {
    use px360_domain::analytics::trend::{Direction, Trend};
    match t {
        Trend::InsufficientData => "insufficient_data".into(),
        Trend::Change { direction, .. } => match direction {
            Direction::Up => "up",
            Direction::Down => "down",
            Direction::Flat => "flat",
        }
        .into(),
    }
}

fn kpi_name(k: px360_domain::analytics::rollup::Kpi) -> String {
    serde_json::to_value(k)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

/// Build the table the caller asked for, through the same report builders as the API.
pub async fn table(
    st: &AppState,
    p: &Principal,
    r: &scope::Resolved,
    which: &str,
    by: Option<String>,
) -> ApiResult<Table> {
    Ok(match which {
        "kpis" => {
            let k = reports::kpis(st, r).await?;
            Table {
                name: "kpis",
                columns: vec!["kpi", "value", "shown", "n", "previous", "trend"],
                rows: k
                    .tiles
                    .iter()
                    .map(|t| {
                        vec![
                            Cell::Text(kpi_name(t.kpi)),
                            num(t.value),
                            Cell::Number(t.shown.map(|s| s as f64)),
                            n(t.n),
                            num(t.previous),
                            Cell::Text(trend_text(&t.trend)),
                        ]
                    })
                    .collect(),
            }
        }
        "items" => {
            let k = reports::items(st, r).await?;
            let mut rows: Vec<Vec<Cell>> = k
                .items
                .iter()
                .map(|i| {
                    vec![
                        Cell::Text(i.key.clone()),
                        Cell::Text(
                            serde_json::to_value(i.scale)
                                .ok()
                                .and_then(|v| v.as_str().map(str::to_owned))
                                .unwrap_or_default(),
                        ),
                        n(i.scores.n),
                        num(Some(i.scores.top)),
                        num(i.scores.middle),
                        num(Some(i.scores.bottom)),
                        num(Some(i.scores.linear_mean)),
                    ]
                })
                .collect();
            if let Some(c) = &k.composite {
                rows.push(vec![
                    Cell::Text("composite".into()),
                    Cell::Text(String::new()),
                    n(c.n),
                    num(Some(c.top)),
                    num(c.middle),
                    num(Some(c.bottom)),
                    num(Some(c.linear_mean)),
                ]);
            }
            Table {
                name: "items",
                columns: vec![
                    "question",
                    "scale",
                    "n",
                    "top",
                    "middle",
                    "bottom",
                    "linear_mean",
                ],
                rows,
            }
        }
        "breakdown" => {
            let b = reports::breakdown(st, r, &BreakdownQuery { by }).await?;
            Table {
                name: "breakdown",
                columns: vec![
                    "key",
                    "invitations",
                    "responses",
                    "response_rate",
                    "nps",
                    "csat",
                ],
                rows: b
                    .rows
                    .iter()
                    .map(|x| {
                        vec![
                            Cell::Text(x.key.clone()),
                            n(x.invitations),
                            n(x.responses),
                            num(x.response_rate),
                            num(x.nps),
                            num(x.csat),
                        ]
                    })
                    .collect(),
            }
        }
        "physicians" => {
            let ph = reports::physicians(st, p, r).await?;
            Table {
                name: "physicians",
                columns: vec!["physician", "n", "top", "linear_mean", "rank"],
                rows: ph
                    .physicians
                    .iter()
                    .map(|x| {
                        vec![
                            Cell::Text(x.name.clone()),
                            n(x.n),
                            num(x.scores.as_ref().map(|s| s.top)),
                            num(x.scores.as_ref().map(|s| s.linear_mean)),
                            Cell::Number(x.rank.map(f64::from)),
                        ]
                    })
                    .collect(),
            }
        }
        "complaints" => {
            let c = reports::cases(st, r).await?;
            Table {
                name: "complaints",
                columns: vec!["group", "key", "received", "resolved", "mean_hours"],
                rows: reports::case_rows(&c.kpis)
                    .into_iter()
                    .map(|(g, k, rec, res, h)| {
                        vec![Cell::Text(g), Cell::Text(k), n(rec), n(res), num(h)]
                    })
                    .collect(),
            }
        }
        _ => {
            return Err(ApiError::Validation(vec![FieldError::new(
                "table",
                "must be kpis, items, breakdown, physicians or complaints",
            )]));
        }
    })
}

/// A CSV field: quoted when needed; text that a spreadsheet would run as a formula is
/// prefixed with `'` (numbers are written as numbers, so a negative NPS stays a number).
fn csv_field(c: &Cell) -> String {
    match c {
        Cell::Number(Some(v)) => format!("{v}"),
        Cell::Number(None) => String::new(),
        Cell::Text(t) => {
            let t = if t.starts_with(['=', '+', '-', '@', '\t', '\r']) {
                format!("'{t}")
            } else {
                t.clone()
            };
            if t.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", t.replace('"', "\"\""))
            } else {
                t
            }
        }
    }
}

pub fn to_csv(t: &Table, arabic: bool) -> String {
    // A BOM so that spreadsheet programs read the UTF-8 (Arabic) correctly.
    let mut out = String::from("\u{feff}");
    let head: Vec<String> = t
        .columns
        .iter()
        .map(|c| csv_field(&Cell::Text(header(c, arabic).to_owned())))
        .collect();
    out.push_str(&head.join(","));
    out.push_str("\r\n");
    for r in &t.rows {
        let line: Vec<String> = r.iter().map(csv_field).collect();
        out.push_str(&line.join(","));
        out.push_str("\r\n");
    }
    out
}

pub fn to_xlsx(t: &Table, arabic: bool) -> Result<Vec<u8>, rust_xlsxwriter::XlsxError> {
    let mut wb = rust_xlsxwriter::Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(t.name)?;
    if arabic {
        ws.set_right_to_left(true);
    }
    let bold = rust_xlsxwriter::Format::new().set_bold();
    for (c, key) in t.columns.iter().enumerate() {
        let col = u16::try_from(c).unwrap_or(u16::MAX);
        ws.write_string_with_format(0, col, header(key, arabic), &bold)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let rn = u32::try_from(r + 1).unwrap_or(u32::MAX);
        for (c, cell) in row.iter().enumerate() {
            let col = u16::try_from(c).unwrap_or(u16::MAX);
            match cell {
                Cell::Text(s) => {
                    ws.write_string(rn, col, s)?;
                }
                Cell::Number(Some(v)) => {
                    ws.write_number(rn, col, *v)?;
                }
                Cell::Number(None) => {}
            }
        }
    }
    wb.save_to_buffer()
}

#[utoipa::path(get, path = "/api/analytics/export", tag = "analytics", params(KpiQuery, ExportQuery),
    responses((status = 200, description = "text/csv or an XLSX workbook of the table"),
              (status = 404, body = crate::error::Problem), (status = 422, body = crate::error::Problem)),
    security(("bearer" = [])))]
pub async fn get_export(
    State(st): State<AppState>,
    Authed(p): Authed,
    ctx: Ctx,
    Query(q): Query<KpiQuery>,
    Query(e): Query<ExportQuery>,
) -> ApiResult<Response> {
    let r = scope::resolve(&st, &p, &ctx, &q).await?;
    let arabic = e.lang.as_deref() == Some("ar");
    let format = e.format.as_deref().unwrap_or("csv");
    if !["csv", "xlsx"].contains(&format) {
        return Err(ApiError::Validation(vec![FieldError::new(
            "format",
            "must be csv or xlsx",
        )]));
    }
    let t = table(&st, &p, &r, &e.table, e.by.clone()).await?;
    export_response(&st, &p, &ctx, &r, &t, format, arabic).await
}

/// Audit the export, then answer the file (the web UI's download link uses this too).
pub async fn export_response(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    r: &scope::Resolved,
    t: &Table,
    format: &str,
    arabic: bool,
) -> ApiResult<Response> {
    st.audit(AppState::entry(
        p,
        ctx,
        "analytics.export",
        "analytics",
        t.name,
        r.filter.hospital.map(|h| h.to_string()).as_deref(),
        serde_json::json!({"table": t.name, "format": format, "period": r.period.label(),
                           "department_id": r.filter.department, "rows": t.rows.len()}),
    ))
    .await?;
    let file = format!(
        "px360-{}-{}.{format}",
        t.name,
        r.period.label().replace('/', "-")
    );
    let disposition = format!("attachment; filename=\"{file}\"");
    Ok(if format == "xlsx" {
        let bytes = to_xlsx(t, arabic).map_err(ApiError::internal)?;
        (
            [
                (
                    header::CONTENT_TYPE,
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet".to_owned(),
                ),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            bytes,
        )
            .into_response()
    } else {
        (
            [
                (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
                (header::CONTENT_DISPOSITION, disposition),
            ],
            to_csv(t, arabic),
        )
            .into_response()
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_and_defuses_formulas() {
        let t = Table {
            name: "x",
            columns: vec!["key", "nps"],
            rows: vec![
                vec![
                    Cell::Text("=HYPERLINK(\"x\")".into()),
                    Cell::Number(Some(-20.0)),
                ],
                vec![Cell::Text("a,b".into()), Cell::Number(None)],
            ],
        };
        let csv = to_csv(&t, false);
        assert_eq!(
            csv,
            "\u{feff}Value of the dimension,NPS\r\n\"'=HYPERLINK(\"\"x\"\")\",-20\r\n\"a,b\",\r\n"
        );
        assert!(to_csv(&t, true).contains("صافي نقاط الترويج"));
        let x = to_xlsx(&t, true).unwrap();
        assert_eq!(&x[..2], b"PK");
    }
}
