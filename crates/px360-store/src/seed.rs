//! First-start demo data: a hospital group with two hospitals, departments, physicians,
//! employees, a few patients, the three journey templates and the PX Admin account.

use crate::auth::{NewUser, hash_password, insert_user, random_secret};
use crate::org::{
    NewPhysician, PatientFields, insert_department, insert_employee, insert_hospital,
    insert_patient, insert_physician,
};
use crate::{Db, Result, new_id, now_ts};

pub struct SeedOutcome {
    /// Set when the admin password was generated (print it once, it is not stored anywhere).
    pub generated_admin_password: Option<String>,
}

/// (template code, name, [(stage code, name, completing event code, survey ref)])
type TemplateSpec = (
    &'static str,
    &'static str,
    &'static [(
        &'static str,
        &'static str,
        &'static str,
        Option<&'static str>,
    )],
);

pub const TEMPLATES: [TemplateSpec; 3] = [
    (
        "OUTPATIENT_VISIT",
        "Outpatient visit",
        &[
            ("BOOKED", "Appointment booked", "OP_BOOKED", None),
            ("CHECKED_IN", "Checked in", "OP_CHECKIN", None),
            ("SEEN", "Seen by clinician", "OP_SEEN", None),
            ("CHECKED_OUT", "Checked out", "OP_CHECKOUT", None),
        ],
    ),
    (
        "INPATIENT_STAY",
        "Inpatient stay",
        &[
            ("ADMITTED", "Admitted", "IP_ADMIT", None),
            ("PROCEDURE", "Procedure performed", "IP_PROCEDURE", None),
            (
                "DISCHARGE_PLANNED",
                "Discharge planned",
                "IP_DISCHARGE_PLANNED",
                None,
            ),
            ("DISCHARGED", "Discharged", "IP_DISCHARGE", None),
        ],
    ),
    (
        "EMERGENCY_VISIT",
        "Emergency visit",
        &[
            ("ARRIVED", "Arrived", "ED_ARRIVAL", None),
            ("TRIAGED", "Triaged", "ED_TRIAGE", None),
            ("SEEN", "Seen by clinician", "ED_SEEN", None),
            (
                "DEPARTED",
                "Departed (admitted or discharged)",
                "ED_DEPARTURE",
                None,
            ),
        ],
    ),
];

const HOSPITALS: [(&str, &str); 2] = [
    ("RGH", "Riverside General Hospital"),
    ("NPH", "Northfield Park Hospital"),
];
const DEPARTMENTS: [(&str, &str); 4] = [
    ("ED", "Emergency Department"),
    ("CARD", "Cardiology"),
    ("ORTH", "Orthopaedics"),
    ("GMED", "General Medicine"),
];

impl Db {
    /// Seed once per database (guarded by a settings row claimed in the same transaction).
    pub async fn seed_demo(&self, admin_password: Option<&str>) -> Result<Option<SeedOutcome>> {
        let mut tx = self.writer.begin().await?;
        let claimed = sqlx::query("INSERT INTO settings (key, value) VALUES ('seed', 'demo-v1') ON CONFLICT (key) DO NOTHING")
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if claimed == 0 {
            tx.rollback().await?;
            // A demo database seeded before surveys existed gets the demo surveys now.
            self.seed_demo_surveys().await?;
            return Ok(None);
        }
        let now = now_ts();
        for (jt_code, jt_name, stages) in TEMPLATES {
            let jt = new_id();
            sqlx::query("INSERT INTO journey_templates (id, code, name, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)")
                .bind(&jt).bind(jt_code).bind(jt_name).bind(&now)
                .execute(&mut *tx).await?;
            for (pos, (code, name, event, survey)) in stages.iter().enumerate() {
                sqlx::query("INSERT INTO stage_templates (id, journey_template_id, position, code, name, completing_event_code, survey_template_ref, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)")
                    .bind(new_id()).bind(&jt).bind(pos as i64 + 1).bind(*code).bind(*name).bind(*event).bind(*survey).bind(&now)
                    .execute(&mut *tx).await?;
            }
        }
        for (hi, (hcode, hname)) in HOSPITALS.iter().enumerate() {
            let h = insert_hospital(&mut *tx, hcode, hname, chrono_tz::Asia::Riyadh).await?;
            let hid = h.id.to_string();
            // SLA business calendar: Asia/Riyadh, Friday–Saturday weekend, Saudi holidays.
            let cal = crate::sla::config::CalendarInput::riyadh_demo();
            crate::sla::config::put_calendar(&mut tx, h.id, &cal, None).await?;
            for (di, (dcode, dname)) in DEPARTMENTS.iter().enumerate() {
                let d = insert_department(&mut *tx, &hid, dcode, dname).await?;
                let did = d.id.to_string();
                for k in 1..=2 {
                    insert_physician(
                        &mut *tx,
                        &hid,
                        &NewPhysician {
                            department_id: did.clone(),
                            licence_number: format!("GMC{}{}{k}", hi + 1, di + 1),
                            given_name: format!("Demo{k}"),
                            family_name: format!("{dname} Physician"),
                            specialty: Some((*dname).into()),
                        },
                    )
                    .await?;
                }
                insert_employee(
                    &mut *tx,
                    &hid,
                    &did,
                    &format!("E{hcode}{dcode}1"),
                    "Demo",
                    "Nurse",
                    "Staff Nurse",
                )
                .await?;
                for k in 1..=3 {
                    insert_patient(
                        &mut *tx,
                        &hid,
                        &format!("{hcode}-{dcode}-{k:04}"),
                        &PatientFields {
                            department_id: Some(did.clone()),
                            given_name: Some("Demo".into()),
                            family_name: Some(format!("Patient {k}")),
                            preferred_language: Some(if k == 2 {
                                "ar".into()
                            } else {
                                "en".into()
                            }),
                            // Demo addresses (example.org, reserved numbers): the default
                            // configuration delivers to the local outbox only.
                            email: Some(format!(
                                "demo.{}.{}.{k}@example.org",
                                hcode.to_lowercase(),
                                dcode.to_lowercase()
                            )),
                            phone: Some(format!("+96650000{}{}{k:02}", hi + 1, di + 1)),
                            contact_channels: Some(vec!["sms".into(), "email".into()]),
                            ..Default::default()
                        },
                    )
                    .await?;
                }
            }
        }
        let (password, generated) = match admin_password {
            Some(p) => (p.to_owned(), None),
            None => {
                let p = random_secret()[..24].to_owned();
                (p.clone(), Some(p))
            }
        };
        insert_user(
            &mut *tx,
            &NewUser {
                username: "admin".into(),
                display_name: "PX Administrator".into(),
                email: None,
                role: px360_domain::rbac::Role::PxAdmin,
                hospital_id: None,
                department_id: None,
            },
            &hash_password(&password)?,
        )
        .await?;
        tx.commit().await?;
        // Surveys on the final stages (own guard: also for databases seeded before surveys).
        self.seed_demo_surveys().await?;
        Ok(Some(SeedOutcome {
            generated_admin_password: generated,
        }))
    }
}
