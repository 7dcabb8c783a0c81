//! The rules of the analyser, one behaviour at a time, in both languages.

use px360_sentiment::{
    Language, MAX_INPUT_BYTES, Rule, Sentiment, SpanKind, Theme, analyse, is_actionable,
    lexicon_errors,
};

fn s(text: &str) -> Sentiment {
    analyse(text).sentiment
}

#[test]
fn embedded_lexicons_have_no_bad_lines() {
    assert_eq!(lexicon_errors(), vec![]);
}

#[test]
fn plain_polarity_in_both_languages() {
    assert_eq!(s("The nurse was wonderful"), Sentiment::Positive);
    assert_eq!(s("The nurse was rude"), Sentiment::Negative);
    assert_eq!(s("الممرضة رائعة"), Sentiment::Positive);
    assert_eq!(s("الممرضة وقحة"), Sentiment::Negative);
    assert_eq!(s("I came for a blood test"), Sentiment::Neutral);
    assert_eq!(s("جيت أسوي تحليل"), Sentiment::Neutral);
}

#[test]
fn negation_flips_within_its_window() {
    assert_eq!(s("The room was clean"), Sentiment::Positive);
    assert_eq!(s("The room was not clean"), Sentiment::Negative);
    assert_eq!(s("The room wasn't clean"), Sentiment::Negative);
    assert_eq!(s("not bad at all"), Sentiment::Positive);
    assert_eq!(s("never good"), Sentiment::Negative);
    for (pos, neg) in [
        ("الغرفة نظيفة", "الغرفة مو نظيفة"),
        ("الأكل زين", "الأكل مو زين"),
        ("الموظف محترم", "الموظف غير محترم"),
        ("الخدمة جيدة", "الخدمة ليست جيدة"),
        ("عجبني التعامل", "ما عجبني التعامل"),
        ("الأكل زين", "الأكل مش زين"),
    ] {
        assert_eq!(s(pos), Sentiment::Positive, "{pos}");
        assert_eq!(s(neg), Sentiment::Negative, "{neg}");
    }
    // Outside the window the negator no longer applies.
    assert_eq!(
        s("not that I would say anything but the staff were great"),
        Sentiment::Positive
    );
    // A theme word that is also an evaluation takes its stem's sentiment: "not cleaned" flips;
    // a topic word ("cleaning") stays neutral.
    assert_eq!(s("The bathroom was not cleaned"), Sentiment::Negative);
    assert_eq!(s("The cleaning was poor"), Sentiment::Negative);
    // "without waiting" is good news.
    assert_eq!(s("دخلت بدون انتظار"), Sentiment::Positive);
}

#[test]
fn a_negator_binds_only_the_first_sentiment_term() {
    let a = analyse("الغرفة مو نظيفة وفيه دم على الأرض");
    assert_eq!(a.sentiment, Sentiment::Negative);
    assert!(
        a.evidence
            .iter()
            .all(|e| !matches!(e.kind, SpanKind::Sentiment { weight } if weight > 0.0))
    );
}

#[test]
fn intensifiers_strengthen_either_side() {
    let plain = analyse("the staff were good").score;
    assert!(analyse("the staff were very good").score > plain);
    let ar = analyse("الأكل زين").score;
    assert!(analyse("الأكل زين وايد").score > ar);
    assert!(analyse("الأكل وايد زين").score > ar);
    assert!(analyse("نظيف جداً").score > analyse("نظيف").score);
    assert!(analyse("the staff were slightly good").score < plain);
}

#[test]
fn contrast_weights_the_clause_after() {
    assert_eq!(
        s("The doctor was nice but I waited four hours, unacceptable"),
        Sentiment::Negative
    );
    assert_eq!(
        s("The wait was long but the doctor was excellent"),
        Sentiment::Positive
    );
    assert_eq!(s("الدكتور زين لكن الانتظار فظيع"), Sentiment::Negative);
    assert_eq!(s("الانتظار طويل بس الدكتور ممتاز"), Sentiment::Positive);
    assert_eq!(
        s("Although the food was bad, the nurses were wonderful"),
        Sentiment::Positive
    );
}

#[test]
fn arabic_spelling_variants_match_one_entry() {
    // Hamza/alef forms, taa marbuta vs haa, alef maqsura vs yaa, diacritics, tatweel, elongation.
    for text in [
        "الخدمة ممتازة",
        "الخدمه ممتازه",
        "الخدمةُ مُمْتَازَةٌ",
        "الخدمة ممتـــــازة",
        "الخدمة ممتاااازة",
        "حلووووو",
        "مرره حلوه",
        "اشكركم",
        "أشكركم",
        "يعطيكم العافيه",
        "الله يعطيكم العافية",
    ] {
        assert_eq!(s(text), Sentiment::Positive, "{text}");
    }
    for text in [
        "خايس",
        "مو زين",
        "ما عجبني",
        "تأخير",
        "تاخير كبير",
        "الانتظار طويل وايد",
        "سيئ جداً",
    ] {
        assert_eq!(s(text), Sentiment::Negative, "{text}");
    }
    // Elongation is emphasis.
    assert!(analyse("حلووووو").score > analyse("حلو").score);
}

#[test]
fn emojis_and_emoticons_count() {
    assert_eq!(s("😡"), Sentiment::Negative);
    assert_eq!(s("👍"), Sentiment::Positive);
    assert_eq!(s("❤️"), Sentiment::Positive);
    assert_eq!(s("ok then :("), Sentiment::Negative);
    assert_eq!(s("thanks :)"), Sentiment::Positive);
}

#[test]
fn themes_in_both_languages() {
    let cases: [(&str, Theme); 13] = [
        ("waited three hours in the queue", Theme::WaitingTime),
        ("the receptionist was rude", Theme::StaffAttitude),
        ("the toilets were dirty", Theme::Cleanliness),
        ("I was overcharged on the invoice", Theme::Billing),
        ("nobody explained the results", Theme::Communication),
        ("they ignored my pain", Theme::PainManagement),
        ("the food was cold", Theme::Food),
        ("no parking anywhere", Theme::ParkingAccess),
        ("the discharge took all day", Theme::Discharge),
        ("my appointment was cancelled", Theme::Appointment),
        ("the pharmacy lost my prescription", Theme::Medication),
        ("the surgeon was skilled", Theme::PhysicianCare),
        ("the nurses were kind", Theme::NursingCare),
    ];
    for (text, theme) in cases {
        assert!(analyse(text).themes.contains(&theme), "{text}: {theme:?}");
    }
    let ar: [(&str, Theme); 13] = [
        ("الانتظار طويل", Theme::WaitingTime),
        ("أسلوب الموظفة", Theme::StaffAttitude),
        ("الحمامات وسخة", Theme::Cleanliness),
        ("الفاتورة غالية", Theme::Billing),
        ("محد شرح لنا", Theme::Communication),
        ("ما عطوني مسكن", Theme::PainManagement),
        ("الأكل بارد", Theme::Food),
        ("المواقف زحمة", Theme::ParkingAccess),
        ("إجراءات الخروج بطيئة", Theme::Discharge),
        ("انلغى موعدي", Theme::Appointment),
        ("الصيدلية ما عندها الدواء", Theme::Medication),
        ("الدكتور ممتاز", Theme::PhysicianCare),
        ("الممرضات رائعات", Theme::NursingCare),
    ];
    for (text, theme) in ar {
        assert!(analyse(text).themes.contains(&theme), "{text}: {theme:?}");
    }
}

#[test]
fn evidence_points_at_the_original_text() {
    let text = "The nurse was WONDERFUL but the parking was awful!";
    let a = analyse(text);
    let words: Vec<&str> = a.evidence.iter().map(|e| &text[e.start..e.end]).collect();
    assert!(words.contains(&"WONDERFUL"), "{words:?}");
    assert!(words.contains(&"awful"), "{words:?}");
    assert!(words.contains(&"parking"), "{words:?}");
    let ar = "الخدمة ممتـــازة";
    let a = analyse(ar);
    assert_eq!(&ar[a.evidence[0].start..a.evidence[0].end], "ممتـــازة");
}

#[test]
fn language_is_detected() {
    assert_eq!(analyse("great care").language, Language::En);
    assert_eq!(analyse("رعاية ممتازة").language, Language::Ar);
    assert_eq!(
        analyse("Dr Ahmed كان ممتاز جداً والممرضات رائعات").language,
        Language::Ar
    );
    assert_eq!(analyse("the nurse كانت رائعة").language, Language::Mixed);
    assert_eq!(analyse("👍 123").language, Language::Unknown);
    assert_eq!(analyse("").language, Language::Unknown);
}

#[test]
fn long_input_is_truncated_not_refused() {
    let long = "the nurses were wonderful. ".repeat(100_000);
    let a = analyse(&long);
    assert!(a.truncated);
    assert_eq!(a.sentiment, Sentiment::Positive);
    assert!(a.evidence.iter().all(|e| e.end <= MAX_INPUT_BYTES));
    // A cut in the middle of a multi-byte letter lands on a char boundary.
    let ar = "ممتاز ".repeat(10_000);
    assert!(analyse(&ar).truncated);
    assert!(!analyse("short").truncated);
}

#[test]
fn negative_feedback_is_actionable_by_rule() {
    let bad = analyse("The toilets were filthy and the staff were rude");
    let mild = analyse("The food was a bit cold");
    let good = analyse("Excellent care");
    let any = Rule::negative_at_most(-0.3);
    assert!(is_actionable(&bad, &any));
    assert!(!is_actionable(&good, &any));
    assert!(
        mild.score > -0.3 && !is_actionable(&mild, &any),
        "{}",
        mild.score
    );
    assert!(is_actionable(&mild, &Rule::negative_at_most(0.0)));
    assert!(is_actionable(
        &bad,
        &Rule::negative_at_most(-0.3).with_themes([Theme::Cleanliness])
    ));
    assert!(!is_actionable(
        &bad,
        &Rule::negative_at_most(-0.3).with_themes([Theme::Billing])
    ));
    // Neutral text is never actionable, even with a permissive threshold.
    assert!(!is_actionable(
        &analyse("I came for an x-ray"),
        &Rule::negative_at_most(1.0)
    ));
}

mod properties {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn any_text_gives_a_bounded_score_and_valid_spans(text in "\\PC{0,400}") {
            let a = analyse(&text);
            prop_assert!((-1.0..=1.0).contains(&a.score));
            for e in &a.evidence {
                prop_assert!(e.start < e.end && e.end <= text.len());
                prop_assert!(text.is_char_boundary(e.start) && text.is_char_boundary(e.end));
            }
        }

        #[test]
        fn arabic_and_marks_soup_never_panics(text in "[\u{0600}-\u{06FF} !.،؟😡👍:()]{0,300}") {
            let a = analyse(&text);
            prop_assert!((-1.0..=1.0).contains(&a.score));
        }
    }
}

#[test]
fn arabic_clitics_and_suffixes_reach_the_base_form() {
    for (text, theme) in [
        ("والممرضات", Theme::NursingCare),
        ("بالفاتورة", Theme::Billing),
        ("وللصيدلية", Theme::Medication),
        ("موعدكم", Theme::Appointment),
        ("للدكتورة", Theme::PhysicianCare),
    ] {
        assert!(analyse(text).themes.contains(&theme), "{text}: {theme:?}");
    }
    assert_eq!(s("ونظيفين"), Sentiment::Positive);
    assert_eq!(s("ومهملين"), Sentiment::Negative);
    // Three letters must remain: "دقيقة" (minute) is not "دقيق" (accurate), "بس" is not stripped.
    assert_eq!(s("انتظرت دقيقة"), s("انتظرت"));
}

#[test]
fn analysis_serialises_for_storage_and_the_api() {
    let a = analyse("rude staff");
    let json = serde_json::to_value(&a).expect("json");
    assert_eq!(json["language"], "en");
    assert_eq!(json["sentiment"], "negative");
    assert_eq!(json["themes"], serde_json::json!(["staff_attitude"]));
    let ev = &json["evidence"][0];
    assert_eq!(
        (ev["start"].as_u64(), ev["end"].as_u64()),
        (Some(0), Some(4))
    );
    assert!(ev["kind"] == "sentiment" || ev["kind"] == "theme", "{ev}");
    let back: px360_sentiment::Analysis = serde_json::from_value(json).expect("round trip");
    assert_eq!(back, a);
    let rule: Rule =
        serde_json::from_str(r#"{"max_score": -0.4, "themes": ["billing"]}"#).expect("rule");
    assert_eq!(
        rule,
        Rule::negative_at_most(-0.4).with_themes([Theme::Billing])
    );
}
