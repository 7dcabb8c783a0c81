//! HCAHPS-style item scores: top-, middle- and bottom-box percentages and the 0–100 linear mean,
//! per question and per composite.
//!
//! An item's state is the count of answers in each answer category, so every box percentage
//! and the linear mean are exact however the counts were merged.
//!
//! Boxes ("A Note About HCAHPS Boxes", <https://hcahpsonline.org/en/summary-analyses>): the top
//! box is the most positive answer, the bottom box the least positive category, the middle box
//! what is between:
//!
//! | scale | top | middle | bottom | linear points |
//! |---|---|---|---|---|
//! | frequency | Always | Usually | Sometimes, Never | 100, 66⅔, 33⅓, 0 |
//! | 0–10 | 9–10 | 7–8 | 0–6 | 10 × answer |
//! | yes/no | Yes | — | No | 100, 0 |
//! | 1–5 rating (PX360, not a CMS scale) | 5 | 3–4 | 1–2 | (answer − 1) × 25 |
//!
//! Linear points come from [`crate::survey::scoring::linear_score`] (the CMS linear scoring of
//! the Star Ratings Technical Notes); here they are held as exact thirds/tenths/quarters.
//!
//! A composite's score is the mean of its items' scores, not the pooled answers: the Star
//! Ratings Technical Notes form a composite's linear mean as the average of its items' linear
//! means, and Hospital Compare's composite box percentages are averages of the items' box
//! percentages. Items without answers are left out of the mean. Composites are exact too
//! ([`Ratio::mean`]).

use super::Merge;
use super::ratio::Ratio;
use crate::survey::answer::Answer;
use crate::survey::key::Key;
use crate::survey::question::Frequency;
use crate::survey::scoring::{NpsCategory, hcahps_top_box};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The answer scales that have boxes and a linear score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scale {
    Frequency,
    ZeroToTen,
    YesNo,
    Rating,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BoxKind {
    Top,
    Middle,
    Bottom,
}

impl Scale {
    /// Number of answer categories.
    pub fn categories(self) -> usize {
        match self {
            Scale::Frequency => 4,
            Scale::ZeroToTen => 11,
            Scale::YesNo => 2,
            Scale::Rating => 5,
        }
    }

    /// The scale and category index (0 = least positive) of a scored answer.
    pub fn of(answer: &Answer) -> Option<(Scale, usize)> {
        match answer {
            Answer::Frequency(f) => Some((Scale::Frequency, *f as usize)),
            Answer::Nps(n) if *n <= 10 => Some((Scale::ZeroToTen, usize::from(*n))),
            Answer::YesNo(b) => Some((Scale::YesNo, usize::from(*b))),
            Answer::Rating(r) if (1..=5).contains(r) => Some((Scale::Rating, usize::from(r - 1))),
            _ => None,
        }
    }

    /// The answer of category `i` (`i < len`).
    pub fn answer(self, i: usize) -> Option<Answer> {
        let i8 = u8::try_from(i).ok()?;
        match self {
            Scale::Frequency => Frequency::ALL.get(i).map(|f| Answer::Frequency(*f)),
            Scale::ZeroToTen => (i8 <= 10).then_some(Answer::Nps(i8)),
            Scale::YesNo => (i8 <= 1).then_some(Answer::YesNo(i8 == 1)),
            Scale::Rating => (i8 <= 4).then_some(Answer::Rating(i8 + 1)),
        }
    }

    /// Which box category `i` falls in. Frequency and 0–10 use the survey scoring's own
    /// definitions (HCAHPS top box, NPS categories 9–10 / 7–8 / 0–6 match CMS's boxes for the
    /// 0–10 hospital rating).
    pub fn box_of(self, i: usize) -> BoxKind {
        match (self, self.answer(i)) {
            (Scale::Frequency, Some(Answer::Frequency(f))) => {
                if hcahps_top_box(f) {
                    BoxKind::Top
                } else if f == Frequency::Usually {
                    BoxKind::Middle
                } else {
                    BoxKind::Bottom
                }
            }
            (Scale::ZeroToTen, Some(Answer::Nps(n))) => match NpsCategory::of(n) {
                Some(NpsCategory::Promoter) => BoxKind::Top,
                Some(NpsCategory::Passive) => BoxKind::Middle,
                _ => BoxKind::Bottom,
            },
            (Scale::YesNo, _) => {
                if i == 1 {
                    BoxKind::Top
                } else {
                    BoxKind::Bottom
                }
            }
            (Scale::Rating, _) => match i {
                4 => BoxKind::Top,
                2 | 3 => BoxKind::Middle,
                _ => BoxKind::Bottom,
            },
            _ => BoxKind::Bottom,
        }
    }

    /// Whether the scale has a middle box (yes/no has none, so its middle box is not reported).
    pub fn has_middle(self) -> bool {
        self != Scale::YesNo
    }
}

/// Answer counts of one question, per scale it was asked on. A key normally has one scale; if a
/// later template version changed the question's type, both are kept apart rather than mixed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ItemCounts {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency: Option<[u64; 4]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub zero_to_ten: Option<[u64; 11]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub yes_no: Option<[u64; 2]>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<[u64; 5]>,
}

fn merge_counts<const N: usize>(a: &mut Option<[u64; N]>, b: &Option<[u64; N]>) {
    if let Some(b) = b {
        let a = a.get_or_insert([0; N]);
        for (x, y) in a.iter_mut().zip(b) {
            *x = x.saturating_add(*y);
        }
    }
}

fn bump<const N: usize>(a: &mut Option<[u64; N]>, i: usize) {
    if let Some(c) = a.get_or_insert([0; N]).get_mut(i) {
        *c = c.saturating_add(1);
    }
}

impl ItemCounts {
    /// Counts one answer; `false` (and nothing counted) for an unscored answer.
    pub fn add(&mut self, answer: &Answer) -> bool {
        let Some((scale, i)) = Scale::of(answer) else {
            return false;
        };
        match scale {
            Scale::Frequency => bump(&mut self.frequency, i),
            Scale::ZeroToTen => bump(&mut self.zero_to_ten, i),
            Scale::YesNo => bump(&mut self.yes_no, i),
            Scale::Rating => bump(&mut self.rating, i),
        }
        true
    }

    /// `(scale, counts)` for each scale with any state, in [`Scale`] order.
    pub fn scales(&self) -> Vec<(Scale, &[u64])> {
        let mut v: Vec<(Scale, &[u64])> = Vec::new();
        if let Some(c) = &self.frequency {
            v.push((Scale::Frequency, c));
        }
        if let Some(c) = &self.zero_to_ten {
            v.push((Scale::ZeroToTen, c));
        }
        if let Some(c) = &self.yes_no {
            v.push((Scale::YesNo, c));
        }
        if let Some(c) = &self.rating {
            v.push((Scale::Rating, c));
        }
        v
    }
}

impl Merge for ItemCounts {
    fn merge(&mut self, other: &Self) {
        merge_counts(&mut self.frequency, &other.frequency);
        merge_counts(&mut self.zero_to_ten, &other.zero_to_ten);
        merge_counts(&mut self.yes_no, &other.yes_no);
        merge_counts(&mut self.rating, &other.rating);
    }
}

/// Exact scores of one item on one scale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct BoxScores {
    pub n: u64,
    pub top: Ratio,
    /// `None` for yes/no, which has no middle box.
    pub middle: Option<Ratio>,
    pub bottom: Ratio,
    /// 0–100.
    pub linear_mean: Ratio,
}

impl BoxScores {
    /// `None` when there are no answers. `counts` longer than the scale are cut to it.
    pub fn of(scale: Scale, counts: &[u64]) -> Option<Self> {
        let counts = counts.get(..scale.categories()).unwrap_or(counts);
        let (mut n, mut top, mut mid, mut bot) = (0u64, 0u64, 0u64, 0u64);
        // Σ count · index: the linear mean is 100 · Σ(count · index) / (n · (len − 1)), the
        // evenly spaced CMS points 100 · index / (len − 1) summed exactly.
        let mut steps: i128 = 0;
        for (i, &c) in counts.iter().enumerate() {
            n = n.saturating_add(c);
            steps += i128::from(c) * i as i128;
            let b = match scale.box_of(i) {
                BoxKind::Top => &mut top,
                BoxKind::Middle => &mut mid,
                BoxKind::Bottom => &mut bot,
            };
            *b = b.saturating_add(c);
        }
        let span = scale.categories() as i128 - 1;
        Some(BoxScores {
            n,
            top: Ratio::percent(top, n)?,
            middle: if scale.has_middle() {
                Ratio::percent(mid, n)
            } else {
                None
            },
            bottom: Ratio::percent(bot, n)?,
            linear_mean: Ratio::new(100 * steps, i128::from(n) * span)?,
        })
    }
}

/// Answer counts per question key: the HCAHPS-style part of a roll-up row.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct ItemsAcc(pub BTreeMap<Key, ItemCounts>);

impl ItemsAcc {
    /// Counts a scored answer to question `key`; unscored answers are ignored (`false`).
    pub fn add(&mut self, key: &Key, answer: &Answer) -> bool {
        if Scale::of(answer).is_none() {
            return false;
        }
        // Look up before inserting so that the common case does not clone the key.
        if let Some(c) = self.0.get_mut(key) {
            return c.add(answer);
        }
        self.0.entry(key.clone()).or_default().add(answer)
    }

    /// Scores of every (question, scale) with answers, in key order.
    pub fn scores(&self) -> Vec<(Key, Scale, BoxScores)> {
        let mut v = Vec::new();
        for (k, c) in &self.0 {
            for (scale, counts) in c.scales() {
                if let Some(s) = BoxScores::of(scale, counts) {
                    v.push((k.clone(), scale, s));
                }
            }
        }
        v
    }

    /// Scores of one question on its scale(s); the first scale with answers.
    pub fn item(&self, key: &Key) -> Option<(Scale, BoxScores)> {
        let c = self.0.get(key)?;
        c.scales()
            .into_iter()
            .find_map(|(scale, counts)| BoxScores::of(scale, counts).map(|s| (scale, s)))
    }

    /// A composite of the given items: each score is the mean of the items' scores (items
    /// without answers left out). `None` when none of the items has answers.
    pub fn composite(&self, items: &[Key]) -> Option<CompositeScores> {
        let scored: Vec<BoxScores> = items
            .iter()
            .filter_map(|k| self.item(k).map(|(_, s)| s))
            .collect();
        let mean = |f: fn(&BoxScores) -> Option<Ratio>| {
            let v: Vec<Ratio> = scored.iter().filter_map(f).collect();
            Ratio::mean(&v)
        };
        Some(CompositeScores {
            items: scored.len(),
            n: scored.iter().fold(0u64, |a, s| a.saturating_add(s.n)),
            top: mean(|s| Some(s.top))?,
            middle: mean(|s| s.middle),
            bottom: mean(|s| Some(s.bottom))?,
            linear_mean: mean(|s| Some(s.linear_mean))?,
        })
    }
}

impl Merge for ItemsAcc {
    fn merge(&mut self, other: &Self) {
        for (k, c) in &other.0 {
            match self.0.get_mut(k) {
                Some(mine) => mine.merge(c),
                None => {
                    self.0.insert(k.clone(), c.clone());
                }
            }
        }
    }
}

/// A composite's scores (0–100 each), averaged over its answered items.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CompositeScores {
    /// Items that had answers.
    pub items: usize,
    /// Answers over those items.
    pub n: u64,
    pub top: Ratio,
    /// Mean over the items that have a middle box; `None` if none has.
    pub middle: Option<Ratio>,
    pub bottom: Ratio,
    pub linear_mean: Ratio,
}

impl CompositeScores {
    /// Whole-number scores as CMS publishes them: (top, middle, bottom, linear mean).
    pub fn rounded(&self) -> (i64, Option<i64>, i64, i64) {
        (
            self.top.round(),
            self.middle.map(Ratio::round),
            self.bottom.round(),
            self.linear_mean.round(),
        )
    }
}
