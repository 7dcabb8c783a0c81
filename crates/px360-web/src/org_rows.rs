//! The rows of the organisation lists: one query per page (search and keyset paging in the
//! store), the cells each kind shows, and the edit link where the user may change the row.

use crate::error::UiError;
use crate::i18n::Tr;
use crate::org_fields::language_label;
use crate::org_form::{Cell, ListRow};
use crate::org_kind::OrgKind;
use crate::org_names::Names;
use px360_api::{AppState, filter};
use px360_domain::rbac::{Action, ObjectScope, Principal};
use px360_store::employees::EmployeeRow;
use px360_store::org::{DepartmentRow, HospitalRow, ListQuery, PatientRow, PhysicianRow};
use px360_store::page::Cursor;
use uuid::Uuid;

/// A page of a kind's list: the column headings' catalogue keys, the rows, and the cursor of
/// the next (older) page.
pub type RowsPage = (Vec<&'static str>, Vec<ListRow>, Option<Cursor>);

pub async fn rows(
    st: &AppState,
    t: &Tr,
    p: &Principal,
    kind: OrgKind,
    q: &ListQuery,
) -> Result<RowsPage, UiError> {
    let names = Names::load(st, p).await?;
    let f = filter(p);
    let edit = |loc: ObjectScope, id: Uuid| {
        p.may(kind.resource(), Action::Update, &loc)
            .then(|| format!("{}/{id}", kind.list_path()))
    };
    Ok(match kind {
        OrgKind::Hospitals => {
            let pg = st.db.org_page::<HospitalRow>(&f, q).await?;
            let rows = pg
                .rows
                .iter()
                .map(|h| ListRow {
                    cells: vec![
                        Cell::code(&h.code),
                        Cell::data(&h.name),
                        Cell::label(t.zone(h.timezone.name())),
                    ],
                    edit: edit(px360_api::obj_of(h.id, None), h.id),
                })
                .collect();
            (vec!["col-code", "col-name", "col-timezone"], rows, pg.next)
        }
        OrgKind::Departments => {
            let pg = st.db.org_page::<DepartmentRow>(&f, q).await?;
            let rows = pg
                .rows
                .iter()
                .map(|d| ListRow {
                    cells: vec![
                        Cell::code(&d.code),
                        Cell::data(&d.name),
                        Cell::data(&names.hospital(Some(d.hospital_id))),
                    ],
                    edit: edit(px360_api::obj_of(d.hospital_id, Some(d.id)), d.id),
                })
                .collect();
            (vec!["col-code", "col-name", "col-hospital"], rows, pg.next)
        }
        OrgKind::Physicians => {
            let pg = st.db.org_page::<PhysicianRow>(&f, q).await?;
            let rows = pg
                .rows
                .iter()
                .map(|ph| ListRow {
                    cells: vec![
                        Cell::data(&format!("{} {}", ph.given_name, ph.family_name)),
                        Cell::code(&ph.licence_number),
                        Cell::data(ph.specialty.as_deref().unwrap_or("")),
                        Cell::data(&names.department(Some(ph.department_id))),
                    ],
                    edit: edit(
                        px360_api::obj_of(ph.hospital_id, Some(ph.department_id)),
                        ph.id,
                    ),
                })
                .collect();
            (
                vec!["col-name", "col-licence", "col-specialty", "col-department"],
                rows,
                pg.next,
            )
        }
        OrgKind::Employees => {
            let pg = st.db.org_page::<EmployeeRow>(&f, q).await?;
            let rows = pg
                .rows
                .iter()
                .map(|e| ListRow {
                    cells: vec![
                        Cell::code(&e.employee_number),
                        Cell::data(&format!("{} {}", e.given_name, e.family_name)),
                        Cell::data(e.job_title.as_deref().unwrap_or("")),
                        Cell::data(&names.department(Some(e.department_id))),
                    ],
                    edit: edit(
                        px360_api::obj_of(e.hospital_id, Some(e.department_id)),
                        e.id,
                    ),
                })
                .collect();
            (
                vec![
                    "orgadm-col-number",
                    "col-name",
                    "orgadm-col-job-title",
                    "col-department",
                ],
                rows,
                pg.next,
            )
        }
        OrgKind::Patients => {
            let pg = st.db.org_page::<PatientRow>(&f, q).await?;
            let rows = pg
                .rows
                .iter()
                .map(|pt| ListRow {
                    cells: vec![
                        Cell::code(&pt.mrn),
                        Cell::data(
                            format!(
                                "{} {}",
                                pt.given_name.as_deref().unwrap_or(""),
                                pt.family_name.as_deref().unwrap_or("")
                            )
                            .trim(),
                        ),
                        Cell::data(&names.department(pt.department_id)),
                        Cell::label(language_label(t, pt.preferred_language.as_str())),
                    ],
                    edit: edit(px360_api::obj_of(pt.hospital_id, pt.department_id), pt.id),
                })
                .collect();
            (
                vec![
                    "orgadm-col-mrn",
                    "col-name",
                    "col-department",
                    "orgadm-col-language",
                ],
                rows,
                pg.next,
            )
        }
        OrgKind::Users => {
            let pg = st.db.org_page::<px360_store::auth::UserRow>(&f, q).await?;
            let rows = crate::people::rows(t, p, &names, &pg.rows);
            (crate::people::COLUMNS.to_vec(), rows, pg.next)
        }
    })
}
