//! What a printed QR code points at, and the code itself.
//!
//! Each hospital (and optionally department) gets a URL `{base}/feedback/{hospital}` or
//! `{base}/feedback/{hospital}/{department}`; the public form reads its target back with
//! [`QrTarget::from_path`]. Codes use error-correction level M (15% damage tolerated: posters get
//! scuffed) and a 4-module quiet zone, as the QR specification requires for reliable scanning.

use image::{ImageFormat, Luma};
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use std::io::Cursor;
use uuid::Uuid;

pub const PATH_PREFIX: &str = "/feedback/";
/// Longest URL encoded (well inside a version-40 code at level M).
pub const MAX_URL: usize = 1_000;
/// Pixels per module in the PNG: a 33-module code at 10 px prints sharp at 8 cm.
pub const PNG_MODULE_PX: u32 = 10;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QrTarget {
    pub hospital_id: Uuid,
    pub department_id: Option<Uuid>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum QrError {
    #[error("feedback.qr.bad_base_url")]
    BadBaseUrl,
    #[error("feedback.qr.bad_path")]
    BadPath,
    #[error("feedback.qr.too_long")]
    TooLong,
    #[error("feedback.qr.render_failed")]
    RenderFailed,
}

impl QrError {
    pub fn code(self) -> &'static str {
        match self {
            QrError::BadBaseUrl => "feedback.qr.bad_base_url",
            QrError::BadPath => "feedback.qr.bad_path",
            QrError::TooLong => "feedback.qr.too_long",
            QrError::RenderFailed => "feedback.qr.render_failed",
        }
    }
}

impl QrTarget {
    /// The form's URL under `base` (`https://…` without a trailing path, or with one that the
    /// app is mounted under).
    pub fn url(&self, base: &str) -> Result<String, QrError> {
        let base = base.trim().trim_end_matches('/');
        let ok = (base.starts_with("https://") || base.starts_with("http://"))
            && !base
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#');
        if !ok {
            return Err(QrError::BadBaseUrl);
        }
        let mut url = format!("{base}{PATH_PREFIX}{}", self.hospital_id);
        if let Some(d) = self.department_id {
            url.push('/');
            url.push_str(&d.to_string());
        }
        if url.len() > MAX_URL {
            return Err(QrError::TooLong);
        }
        Ok(url)
    }

    /// The target from the path after [`PATH_PREFIX`]: `{hospital}` or `{hospital}/{department}`.
    pub fn from_path(rest: &str) -> Result<QrTarget, QrError> {
        let mut parts = rest.trim_matches('/').split('/');
        let id = |s: Option<&str>| s.and_then(|s| Uuid::parse_str(s).ok());
        let hospital_id = id(parts.next()).ok_or(QrError::BadPath)?;
        let department_id = match parts.next() {
            None => None,
            s => Some(id(s).ok_or(QrError::BadPath)?),
        };
        if parts.next().is_some() {
            return Err(QrError::BadPath);
        }
        Ok(QrTarget {
            hospital_id,
            department_id,
        })
    }
}

fn code(url: &str) -> Result<QrCode, QrError> {
    if url.is_empty() || url.len() > MAX_URL {
        return Err(QrError::TooLong);
    }
    QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).map_err(|_| QrError::TooLong)
}

/// An SVG document (black on white, scalable for print).
pub fn svg(url: &str) -> Result<String, QrError> {
    Ok(code(url)?
        .render::<svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

/// A PNG image, [`PNG_MODULE_PX`] pixels per module.
pub fn png(url: &str) -> Result<Vec<u8>, QrError> {
    let img = code(url)?
        .render::<Luma<u8>>()
        .module_dimensions(PNG_MODULE_PX, PNG_MODULE_PX)
        .quiet_zone(true)
        .build();
    let mut out = Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Png)
        .map_err(|_| QrError::RenderFailed)?;
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    fn target() -> QrTarget {
        QrTarget {
            hospital_id: Uuid::from_u128(0x1234),
            department_id: Some(Uuid::from_u128(0x5678)),
        }
    }

    fn decode_png(png: &[u8]) -> String {
        let img = image::load_from_memory_with_format(png, ImageFormat::Png)
            .unwrap()
            .to_luma8();
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids.len(), 1);
        grids[0].decode().unwrap().1
    }

    #[test]
    fn the_png_decodes_back_to_the_url() {
        let url = target().url("https://px360.example.sa/").unwrap();
        assert_eq!(
            url,
            "https://px360.example.sa/feedback/00000000-0000-0000-0000-000000001234/00000000-0000-0000-0000-000000005678"
        );
        let png = png(&url).unwrap();
        assert_eq!(&png[..8], b"\x89PNG\r\n\x1a\n");
        assert_eq!(decode_png(&png), url);
    }

    #[test]
    fn the_svg_has_the_same_modules_as_the_png() {
        let url = target().url("https://px360.example.sa").unwrap();
        let s = svg(&url).unwrap();
        assert!(s.starts_with("<?xml") && s.contains("<svg") && s.contains("<path"));
        // Rasterise the SVG's module rectangles ourselves and decode that.
        let c = code(&url).unwrap();
        let w = c.width() as u32;
        let quiet = 4;
        let px = 8;
        let size = (w + 2 * quiet) * px;
        let mut img = image::GrayImage::from_pixel(size, size, Luma([255]));
        // The path's "M{x} {y}h{px}v{px}h-{px}z" squares, one per dark module.
        let d = s.split("d=\"").nth(1).unwrap().split('"').next().unwrap();
        let mut dark = 0;
        let mut module = 0.0_f64;
        for cmd in d.split('M').filter(|c| !c.is_empty()) {
            let nums: Vec<f64> = cmd
                .split(|ch: char| !(ch.is_ascii_digit() || ch == '.' || ch == '-'))
                .filter(|t| !t.is_empty())
                .filter_map(|t| t.parse().ok())
                .collect();
            module = nums[2];
            let (mx, my) = ((nums[0] / module) as u32, (nums[1] / module) as u32);
            for y in 0..px {
                for x in 0..px {
                    img.put_pixel(mx * px + x, my * px + y, Luma([0]));
                }
            }
            dark += 1;
        }
        assert!(module > 0.0);
        let expected = c
            .to_colors()
            .iter()
            .filter(|c| **c == qrcode::Color::Dark)
            .count();
        assert_eq!(dark, expected);
        let mut prepared = rqrr::PreparedImage::prepare(img);
        let grids = prepared.detect_grids();
        assert_eq!(grids[0].decode().unwrap().1, url);
    }

    #[test]
    fn paths_round_trip_and_bad_ones_are_refused() {
        let t = target();
        let url = t.url("http://localhost:8080/px").unwrap();
        let rest = url.split(PATH_PREFIX).nth(1).unwrap();
        assert_eq!(QrTarget::from_path(rest), Ok(t));
        let h = QrTarget {
            department_id: None,
            ..t
        };
        assert_eq!(QrTarget::from_path(&h.hospital_id.to_string()), Ok(h));
        for bad in [
            "",
            "nope",
            "00000000-0000-0000-0000-000000001234/x",
            "a/b/c",
        ] {
            assert_eq!(QrTarget::from_path(bad), Err(QrError::BadPath), "{bad}");
        }
        assert_eq!(t.url("javascript:alert(1)"), Err(QrError::BadBaseUrl));
        assert_eq!(t.url("https://a b"), Err(QrError::BadBaseUrl));
        assert_eq!(png(&"x".repeat(MAX_URL + 1)), Err(QrError::TooLong));
        assert_eq!(QrError::TooLong.code(), "feedback.qr.too_long");
    }
}
