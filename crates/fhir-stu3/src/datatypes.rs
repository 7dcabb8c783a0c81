//! FHIR STU3 complex datatypes, reduced to the elements GP Connect uses.

use crate::datetime::FhirDateTime;
use crate::read::{Ctx, Decimal, Obj};

/// A code from a code system.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Coding {
    pub system: Option<String>,
    pub code: Option<String>,
    pub display: Option<String>,
    pub user_selected: bool,
    /// The SNOMED CT description the clinician chose (`Extension-coding-sctdescid`).
    pub description_display: Option<String>,
    pub description_id: Option<String>,
}

/// A concept as one or more codings plus free text.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct CodeableConcept {
    pub coding: Vec<Coding>,
    pub text: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Identifier {
    pub system: Option<String>,
    pub value: Option<String>,
}

/// A reference to another resource (`reference`), or a logical identifier, or just text.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Reference {
    pub reference: Option<String>,
    pub identifier: Option<Identifier>,
    pub display: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Period {
    pub start: Option<FhirDateTime>,
    pub end: Option<FhirDateTime>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Quantity {
    pub value: Option<Decimal>,
    pub comparator: Option<String>,
    pub unit: Option<String>,
    pub system: Option<String>,
    pub code: Option<String>,
    /// GP Connect's `Extension-CareConnect-GPC-MedicationQuantityText-1`.
    pub text: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct HumanName {
    pub use_: Option<String>,
    pub text: Option<String>,
    pub family: Option<String>,
    pub given: Vec<String>,
    pub prefix: Vec<String>,
    pub suffix: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Address {
    pub use_: Option<String>,
    pub text: Option<String>,
    pub line: Vec<String>,
    pub city: Option<String>,
    pub district: Option<String>,
    pub state: Option<String>,
    pub postal_code: Option<String>,
    pub country: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct ContactPoint {
    pub system: Option<String>,
    pub value: Option<String>,
    pub use_: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Annotation {
    pub text: Option<String>,
    pub time: Option<FhirDateTime>,
    pub author: Option<String>,
}

/// An extension with the value types GP Connect uses.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Extension {
    pub url: String,
    pub value: Option<ExtValue>,
    pub extension: Vec<Extension>,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum ExtValue {
    /// valueString, valueCode, valueId, valueUri.
    Text(String),
    Boolean(bool),
    Integer(i64),
    DateTime(FhirDateTime),
    CodeableConcept(CodeableConcept),
    Coding(Coding),
    Reference(Reference),
    Period(Period),
    Quantity(Quantity),
    /// A value type this model does not read (its JSON key, e.g. `valueAttachment`).
    Other(String),
}

/// Matches an extension URL by its last path segment, ignoring case, version suffix and
/// the host, because GP Connect suppliers use both `fhir.nhs.uk` and `fhir.hl7.org.uk`
/// forms and sometimes misspell them.
pub fn extension_name(url: &str) -> &str {
    let last = url.rsplit('/').next().unwrap_or(url);
    let last = last.strip_suffix("-1").unwrap_or(last);
    last.strip_prefix("Extension-CareConnect-GPC-")
        .or_else(|| last.strip_prefix("Extension-CareConnect-"))
        .or_else(|| last.strip_prefix("Extension-"))
        .unwrap_or(last)
}

impl Extension {
    pub fn is(&self, name: &str) -> bool {
        extension_name(&self.url).eq_ignore_ascii_case(name)
    }

    /// The first sub-extension whose url is `name` (sub-extension urls are plain names).
    pub fn sub(&self, name: &str) -> Option<&Extension> {
        self.extension
            .iter()
            .find(|e| e.url.eq_ignore_ascii_case(name))
    }

    pub fn text(&self) -> Option<&str> {
        match &self.value {
            Some(ExtValue::Text(s)) => Some(s),
            _ => None,
        }
    }
}

/// The first extension in `exts` named `name` (see [`extension_name`]).
pub fn find_ext<'e>(exts: &'e [Extension], name: &str) -> Option<&'e Extension> {
    exts.iter().find(|e| e.is(name))
}

impl Coding {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let mut c = Coding {
            system: o.string(ctx, "system"),
            code: o.string(ctx, "code"),
            display: o.string(ctx, "display"),
            user_selected: o.boolean(ctx, "userSelected").unwrap_or(false),
            description_display: None,
            description_id: None,
        };
        if o.raw("extension").is_some() {
            for ext in o.many(ctx, "extension", Extension::read) {
                let name = extension_name(&ext.url).to_ascii_lowercase();
                // "sctdecsid" is a misspelling seen in supplier data.
                if name.ends_with("sctdescid") || name.ends_with("sctdecsid") {
                    for sub in &ext.extension {
                        let v = sub.text().map(str::to_owned).or_else(|| match &sub.value {
                            Some(ExtValue::Integer(i)) => Some(i.to_string()),
                            _ => None,
                        });
                        if sub.url.eq_ignore_ascii_case("descriptionDisplay") {
                            c.description_display = v;
                        } else if sub.url.eq_ignore_ascii_case("descriptionId") {
                            c.description_id = v;
                        }
                    }
                }
            }
        }
        c
    }

    /// The text a clinician should see: the chosen description, else the display.
    pub fn label(&self) -> Option<&str> {
        self.description_display
            .as_deref()
            .or(self.display.as_deref())
    }
}

impl CodeableConcept {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            coding: o.many(ctx, "coding", Coding::read),
            text: o.string(ctx, "text"),
        }
    }

    /// Text for a narrative: `text`, else the first coding's description or display.
    pub fn label(&self) -> Option<&str> {
        self.text
            .as_deref()
            .filter(|t| !t.trim().is_empty())
            .or_else(|| self.coding.iter().find_map(Coding::label))
    }

    /// The first coding in `system`.
    pub fn coding_in(&self, system: &str) -> Option<&Coding> {
        self.coding
            .iter()
            .find(|c| c.system.as_deref() == Some(system))
    }

    /// The first code in `system`.
    pub fn code_in(&self, system: &str) -> Option<&str> {
        self.coding_in(system).and_then(|c| c.code.as_deref())
    }
}

impl Identifier {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            system: o.string(ctx, "system"),
            value: o.string(ctx, "value"),
        }
    }
}

impl Reference {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            reference: o.string(ctx, "reference"),
            identifier: o.one(ctx, "identifier", Identifier::read),
            display: o.string(ctx, "display"),
        }
    }
}

impl Period {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            start: o.datetime(ctx, "start"),
            end: o.datetime(ctx, "end"),
        }
    }
}

impl Quantity {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let mut q = Self {
            value: o.decimal(ctx, "value"),
            comparator: o.string(ctx, "comparator"),
            unit: o.string(ctx, "unit"),
            system: o.string(ctx, "system"),
            code: o.string(ctx, "code"),
            text: None,
        };
        if o.raw("extension").is_some() {
            let exts = o.many(ctx, "extension", Extension::read);
            q.text =
                find_ext(&exts, "MedicationQuantityText").and_then(|e| e.text().map(str::to_owned));
        }
        q
    }
}

impl HumanName {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            use_: o.string(ctx, "use"),
            text: o.string(ctx, "text"),
            family: o.string(ctx, "family"),
            given: o.strings(ctx, "given"),
            prefix: o.strings(ctx, "prefix"),
            suffix: o.strings(ctx, "suffix"),
        }
    }

    /// `Title Given Family` for narratives.
    pub fn display(&self) -> String {
        if let Some(t) = &self.text
            && !t.trim().is_empty()
        {
            return t.clone();
        }
        let mut parts: Vec<&str> = Vec::new();
        parts.extend(self.prefix.iter().map(String::as_str));
        parts.extend(self.given.iter().map(String::as_str));
        parts.extend(self.family.as_deref());
        parts.join(" ")
    }
}

impl Address {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            use_: o.string(ctx, "use"),
            text: o.string(ctx, "text"),
            line: o.strings(ctx, "line"),
            city: o.string(ctx, "city"),
            district: o.string(ctx, "district"),
            state: o.string(ctx, "state"),
            postal_code: o.string(ctx, "postalCode"),
            country: o.string(ctx, "country"),
        }
    }
}

impl ContactPoint {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            system: o.string(ctx, "system"),
            value: o.string(ctx, "value"),
            use_: o.string(ctx, "use"),
        }
    }
}

impl Annotation {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        Self {
            text: o.string(ctx, "text"),
            time: o.datetime(ctx, "time"),
            author: o.string(ctx, "authorString").or_else(|| {
                o.one(ctx, "authorReference", Reference::read)
                    .and_then(|r| r.display)
            }),
        }
    }
}

impl Extension {
    pub(crate) fn read(ctx: &mut Ctx<'_>, o: Obj<'_>) -> Self {
        let url = o.string(ctx, "url").unwrap_or_default();
        if url.is_empty() {
            ctx.warn(o.path, "an extension without a url; ignored");
        }
        let mut value = None;
        for (k, _) in o.map.iter() {
            let Some(kind) = k.strip_prefix("value") else {
                continue;
            };
            let key: &str = k.as_str();
            value = match kind {
                "String" | "Code" | "Id" | "Uri" | "Markdown" | "Oid" => {
                    o.string(ctx, key).map(ExtValue::Text)
                }
                "Boolean" => o.boolean(ctx, key).map(ExtValue::Boolean),
                "Integer" | "PositiveInt" | "UnsignedInt" => {
                    o.integer(ctx, key).map(ExtValue::Integer)
                }
                "DateTime" | "Date" | "Instant" => o.datetime(ctx, key).map(ExtValue::DateTime),
                "CodeableConcept" => o
                    .one(ctx, key, CodeableConcept::read)
                    .map(ExtValue::CodeableConcept),
                "Coding" => o.one(ctx, key, Coding::read).map(ExtValue::Coding),
                "Reference" => o.one(ctx, key, Reference::read).map(ExtValue::Reference),
                "Period" => o.one(ctx, key, Period::read).map(ExtValue::Period),
                "Quantity" => o.one(ctx, key, Quantity::read).map(ExtValue::Quantity),
                _ => Some(ExtValue::Other(k.clone())),
            };
            break;
        }
        Self {
            url,
            value,
            extension: if o.raw("extension").is_some() {
                o.many(ctx, "extension", Extension::read)
            } else {
                Vec::new()
            },
        }
    }
}
