//! The organisation forms' fields: what each kind's form shows (filled from the posted values
//! or the stored object), the stored object's values as a form, and the posted patient form
//! as the API's fields. Validation is the API's (`org_form` maps its errors onto the fields).

use crate::error::UiError;
use crate::i18n::{Label, Tr};
use crate::org_form::{Field, FormData, Kind, Opt};
use crate::org_kind::OrgKind;
use crate::org_names::Names;
use px360_api::AppState;
use px360_api::auth::Ctx;
use px360_domain::rbac::{Action, Principal};
use px360_store::org::{Channel, PatientFields};

pub fn language_label(t: &Tr, code: &str) -> Label {
    t.label(&format!("orgadm-lang-{code}"), code)
}

pub fn patient_fields(form: &FormData) -> PatientFields {
    PatientFields {
        department_id: form.opt("department_id"),
        given_name: form.opt("given_name"),
        family_name: form.opt("family_name"),
        date_of_birth: form.opt("date_of_birth"),
        preferred_language: form.opt("preferred_language"),
        email: form.opt("email"),
        phone: form.opt("phone"),
        contact_channels: Some(form.all("contact_channels")),
    }
}

fn channel_options(t: &Tr, chosen: &[String]) -> Vec<Opt> {
    Channel::ALL
        .iter()
        .map(|c| Opt {
            value: c.as_str().to_owned(),
            label: Label {
                text: t.get(&format!("orgadm-channel-{}", c.as_str())),
                data: false,
            },
            selected: chosen.iter().any(|x| x == c.as_str()),
        })
        .collect()
}

fn language_options(t: &Tr, chosen: &str) -> Vec<Opt> {
    let mut codes = vec!["en", "ar"];
    if !chosen.is_empty() && !codes.contains(&chosen) {
        codes.push(chosen);
    }
    codes
        .into_iter()
        .map(|c| Opt {
            value: c.to_owned(),
            label: language_label(t, c),
            selected: c == chosen || (chosen.is_empty() && c == "en"),
        })
        .collect()
}

/// Time zones the catalogue names (the region's), in the page's language, then every other
/// IANA zone by its name: a choice rather than a name to type.
const NAMED_ZONES: [&str; 11] = [
    "Asia/Riyadh",
    "Asia/Dubai",
    "Asia/Kuwait",
    "Asia/Qatar",
    "Asia/Bahrain",
    "Asia/Muscat",
    "Asia/Amman",
    "Asia/Baghdad",
    "Africa/Cairo",
    "Europe/London",
    "UTC",
];

fn timezone_options(t: &Tr, chosen: &str) -> Vec<Opt> {
    let others = chrono_tz::TZ_VARIANTS
        .iter()
        .map(|z| z.name())
        .filter(|n| !NAMED_ZONES.contains(n));
    let mut v: Vec<Opt> = NAMED_ZONES
        .into_iter()
        .chain(others)
        .map(|z| Opt {
            value: z.to_owned(),
            label: if NAMED_ZONES.contains(&z) {
                t.zone(z)
            } else {
                Label::data(z)
            },
            selected: z == chosen,
        })
        .collect();
    // A posted value that is no zone stays shown (with its error next to the field).
    if !v.iter().any(|o| o.selected) {
        v.insert(
            0,
            Opt {
                value: chosen.to_owned(),
                label: Label::data(chosen),
                selected: true,
            },
        );
    }
    v
}

/// The fields of a kind's form, filled from `v` (the posted values, or the object's).
pub fn fields(t: &Tr, kind: OrgKind, names: &Names, v: &FormData, new: bool) -> Vec<Field> {
    let dept = |required: bool| {
        Field::text(t, "department_id", "col-department", "", required).kind(Kind::Select(
            names.department_options(
                &v.get("department_id"),
                (!required).then(|| t.get("orgadm-none")),
            ),
        ))
    };
    let mut out = Vec::new();
    match kind {
        OrgKind::Hospitals => {
            if new {
                out.push(Field::code(t, "code", "col-code", &v.get("code")));
            }
            out.push(Field::text(t, "name", "col-name", &v.get("name"), true));
            let tz = v.opt("timezone").unwrap_or_else(|| "Asia/Riyadh".into());
            out.push(
                Field::text(t, "timezone", "col-timezone", "", true)
                    .kind(Kind::Select(timezone_options(t, &tz))),
            );
        }
        OrgKind::Departments => {
            if new {
                out.push(
                    Field::text(t, "hospital_id", "col-hospital", "", true).kind(Kind::Select(
                        names.hospital_options(&v.get("hospital_id"), None),
                    )),
                );
                out.push(Field::code(t, "code", "col-code", &v.get("code")));
            }
            out.push(Field::text(t, "name", "col-name", &v.get("name"), true));
        }
        OrgKind::Physicians => {
            out.push(dept(true));
            if new {
                out.push(Field::code(
                    t,
                    "licence_number",
                    "col-licence",
                    &v.get("licence_number"),
                ));
            }
            out.push(Field::text(
                t,
                "given_name",
                "orgadm-given-name",
                &v.get("given_name"),
                true,
            ));
            out.push(Field::text(
                t,
                "family_name",
                "orgadm-family-name",
                &v.get("family_name"),
                true,
            ));
            out.push(Field::text(
                t,
                "specialty",
                "col-specialty",
                &v.get("specialty"),
                false,
            ));
        }
        OrgKind::Employees => {
            out.push(dept(true));
            if new {
                out.push(Field::code(
                    t,
                    "employee_number",
                    "orgadm-col-number",
                    &v.get("employee_number"),
                ));
            }
            out.push(Field::text(
                t,
                "given_name",
                "orgadm-given-name",
                &v.get("given_name"),
                true,
            ));
            out.push(Field::text(
                t,
                "family_name",
                "orgadm-family-name",
                &v.get("family_name"),
                true,
            ));
            out.push(Field::text(
                t,
                "job_title",
                "orgadm-col-job-title",
                &v.get("job_title"),
                false,
            ));
        }
        OrgKind::Patients => {
            out.push(dept(true));
            if new {
                out.push(Field::code(t, "mrn", "orgadm-col-mrn", &v.get("mrn")));
            }
            out.push(Field::text(
                t,
                "given_name",
                "orgadm-given-name",
                &v.get("given_name"),
                false,
            ));
            out.push(Field::text(
                t,
                "family_name",
                "orgadm-family-name",
                &v.get("family_name"),
                false,
            ));
            out.push(Field {
                ltr: true,
                ..Field::text(
                    t,
                    "date_of_birth",
                    "orgadm-date-of-birth",
                    &v.get("date_of_birth"),
                    false,
                )
                .kind(Kind::Date)
            });
            out.push(
                Field::text(t, "preferred_language", "orgadm-col-language", "", true).kind(
                    Kind::Select(language_options(t, &v.get("preferred_language"))),
                ),
            );
            out.push(Field {
                ltr: true,
                ..Field::text(t, "email", "orgadm-email", &v.get("email"), false).kind(Kind::Email)
            });
            out.push(Field {
                ltr: true,
                ..Field::text(t, "phone", "orgadm-phone", &v.get("phone"), false)
            });
            out.push(
                Field::text(t, "contact_channels", "orgadm-channels", "", false)
                    .kind(Kind::Checks(channel_options(t, &v.all("contact_channels")))),
            );
        }
        OrgKind::Users => {}
    }
    out
}

/// An existing object's values as a form (what the edit page starts from), after the gate for
/// `Update` (out of scope 404, too-low role 403).
pub async fn current(
    st: &AppState,
    p: &Principal,
    ctx: &Ctx,
    kind: OrgKind,
    id: &str,
) -> Result<FormData, UiError> {
    let pairs: Vec<(&str, String)> = match kind {
        OrgKind::Hospitals => {
            let h = px360_api::hospitals::load(st, p, ctx, id, Action::Update).await?;
            vec![("name", h.name), ("timezone", h.timezone.name().to_owned())]
        }
        OrgKind::Departments => {
            let d = px360_api::departments::load(st, p, ctx, id, Action::Update).await?;
            vec![("name", d.name)]
        }
        OrgKind::Physicians => {
            let ph = px360_api::physicians::load(st, p, ctx, id, Action::Update).await?;
            vec![
                ("department_id", ph.department_id.to_string()),
                ("given_name", ph.given_name),
                ("family_name", ph.family_name),
                ("specialty", ph.specialty.unwrap_or_default()),
            ]
        }
        OrgKind::Employees => {
            let e = px360_api::employees::load(st, p, ctx, id, Action::Update).await?;
            vec![
                ("department_id", e.department_id.to_string()),
                ("given_name", e.given_name),
                ("family_name", e.family_name),
                ("job_title", e.job_title.unwrap_or_default()),
            ]
        }
        OrgKind::Patients => {
            let pt = px360_api::patients::load(st, p, ctx, id, Action::Update).await?;
            let mut v = vec![
                (
                    "department_id",
                    pt.department_id.map(|d| d.to_string()).unwrap_or_default(),
                ),
                ("given_name", pt.given_name.unwrap_or_default()),
                ("family_name", pt.family_name.unwrap_or_default()),
                ("date_of_birth", pt.date_of_birth.unwrap_or_default()),
                (
                    "preferred_language",
                    pt.preferred_language.as_str().to_owned(),
                ),
                ("email", pt.email.unwrap_or_default()),
                ("phone", pt.phone.unwrap_or_default()),
            ];
            v.extend(
                pt.contact_channels
                    .0
                    .iter()
                    .map(|c| ("contact_channels", c.as_str().to_owned())),
            );
            v
        }
        OrgKind::Users => crate::people::current(st, p, ctx, id).await?,
    };
    Ok(FormData(
        pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
    ))
}
