//! The weekly analytics report email (issue 17 item 5): the KPI tiles of the subscriber's scope
//! for the previous week with the trend against the week before, in the recipient's language
//! (Arabic right to left). The notification's detail holds numbers and the scope's name only:
//! nothing about patients (no identifiers, no comments).

use crate::notify::{Texts, escape};
use px360_store::notify_email::EmailJob;

/// Name and unit of a tile, in English and Arabic.
fn label(kpi: &str, ar: bool) -> (&'static str, &'static str) {
    let (en, ar_name, unit) = match kpi {
        "response_rate" => ("Response rate", "معدل الاستجابة", "%"),
        "nps" => ("Net Promoter Score", "صافي نقاط الترويج", ""),
        "csat" => ("Satisfaction (CSAT)", "الرضا (CSAT)", "%"),
        "top_box" => ("Top box", "أعلى تقييم", "%"),
        "linear_mean" => ("Mean score (0-100)", "متوسط الدرجة (0-100)", ""),
        "sla_first_response" => ("First response on time", "الاستجابة الأولى في الموعد", "%"),
        "sla_resolution" => ("Resolved on time", "الحل في الموعد", "%"),
        "complaints_received" => ("Complaints received", "الشكاوى الواردة", ""),
        "complaint_hours_to_resolve" => ("Hours to resolve", "ساعات الحل", ""),
        "action_closure" => ("Actions closed", "الإجراءات المغلقة", "%"),
        "action_overdue" => ("Actions overdue", "الإجراءات المتأخرة", "%"),
        _ => ("Indicator", "مؤشر", ""),
    };
    (if ar { ar_name } else { en }, unit)
}

/// One line per tile: name, value of the week, and the change against the week before.
fn rows(d: &serde_json::Value, ar: bool) -> Vec<(String, String, String)> {
    let none = if ar { "لا بيانات" } else { "no data" };
    let mut out = Vec::new();
    for t in d["tiles"].as_array().into_iter().flatten() {
        let (name, unit) = label(t["kpi"].as_str().unwrap_or(""), ar);
        let value = match t["shown"].as_i64() {
            Some(v) => format!("{v}{unit}"),
            None => none.to_owned(),
        };
        let trend = match (t["trend"]["kind"].as_str(), t["trend"]["delta"].as_f64()) {
            (Some("change"), Some(delta)) => {
                let arrow = match t["trend"]["direction"].as_str() {
                    Some("up") => "▲",
                    Some("down") => "▼",
                    _ => "=",
                };
                let word = if ar {
                    "مقارنة بالأسبوع السابق"
                } else {
                    "vs previous week"
                };
                format!("{arrow} {delta:+.1} {word}")
            }
            _ if ar => "لا توجد بيانات كافية للمقارنة".to_owned(),
            _ => "not enough data to compare".to_owned(),
        };
        out.push((name.to_owned(), value, trend));
    }
    out
}

/// Subject, text and HTML of a weekly report notification.
pub fn texts(job: &EmailJob, base: &str) -> Texts {
    let ar = job.language == "ar";
    let d = &job.detail;
    let week_from = d["from"].as_str().unwrap_or("");
    let scope = d["scope"].as_str().unwrap_or("").to_owned();
    let link = format!(
        "{}/ui/analytics?period={}",
        base.trim_end_matches('/'),
        d["week"].as_str().unwrap_or("").replace('/', "%2F")
    );
    let (subject, hello, intro, open, dir, lang) = if ar {
        // Isolated left to right inside the Arabic sentences: unisolated, a right-to-left line
        // shows 2026-11-29 as 29-11-2026, and a Latin scope name pulls the punctuation around.
        let week_from = format!("\u{2066}{week_from}\u{2069}");
        let scope_name = format!("\u{2068}{scope}\u{2069}");
        (
            format!("التقرير الأسبوعي لتجربة المرضى: الأسبوع الذي يبدأ {week_from}"),
            format!("مرحبًا {}،", job.display_name),
            if scope.is_empty() {
                format!("مؤشرات الأداء للمجموعة للأسبوع الذي يبدأ {week_from}:")
            } else {
                format!("مؤشرات الأداء لـ{scope_name} للأسبوع الذي يبدأ {week_from}:")
            },
            "فتح التحليلات",
            "rtl",
            "ar",
        )
    } else {
        (
            format!("Weekly patient experience report: week of {week_from}"),
            format!("Hello {},", job.display_name),
            if scope.is_empty() {
                format!("Key indicators of the group for the week starting {week_from}:")
            } else {
                format!("Key indicators of {scope} for the week starting {week_from}:")
            },
            "Open analytics",
            "ltr",
            "en",
        )
    };
    let rows = rows(d, ar);
    let mut plain = format!("{hello}\n\n{intro}\n\n");
    let mut table = String::new();
    for (name, value, trend) in &rows {
        plain.push_str(&format!("- {name}: {value} ({trend})\n"));
        table.push_str(&format!(
            "<tr><td style=\"padding:4px 8px\">{}</td><td style=\"padding:4px 8px;font-weight:bold\">{}</td><td style=\"padding:4px 8px\">{}</td></tr>",
            escape(name),
            escape(value),
            escape(trend)
        ));
    }
    plain.push_str(&format!("\n{link}\n"));
    let html = format!(
        "<!doctype html><html lang=\"{lang}\" dir=\"{dir}\"><body style=\"font-family:sans-serif\">\
         <p>{}</p><p>{}</p><table dir=\"{dir}\" style=\"border-collapse:collapse\">{table}</table>\
         <p><a href=\"{}\">{open}</a></p></body></html>",
        escape(&hello),
        escape(&intro),
        escape(&link)
    );
    Texts {
        subject,
        plain,
        html,
    }
}
