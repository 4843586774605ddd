//! String formats decoded into real types: `date-time` (RFC 3339, offset
//! kept), `date` and `uuid`. A string that does not parse is a misfit, so an
//! optional field holding a malformed date becomes absent with drift.

use super::scalars::{scalar, Conv, Scalar};
use super::{Cx, Decode, Decoding};
use serde::de::Deserializer;

/// An RFC 3339 timestamp with its original UTC offset.
pub type DateTime = chrono::DateTime<chrono::FixedOffset>;
/// A calendar date (`format: date`).
pub type Date = chrono::NaiveDate;
/// A UUID (`format: uuid`).
pub type Uuid = uuid::Uuid;

impl Scalar for DateTime {
    const EXPECTED: &'static str = "date-time string";
    const RUST: &'static str = "DateTime";
    fn from_str(v: &str) -> Conv<Self> {
        if let Ok(t) = DateTime::parse_from_rfc3339(v) {
            return Conv::Exact(t);
        }
        // What providers send instead: a space for the `T` (SQL style),
        // and no offset at all (taken as UTC), reported as drift.
        let v = v.trim();
        if let Ok(t) = DateTime::parse_from_str(v, "%Y-%m-%d %H:%M:%S%.f%:z") {
            return Conv::Coerced(t);
        }
        for layout in ["%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f"] {
            if let Ok(t) = chrono::NaiveDateTime::parse_from_str(v, layout) {
                return Conv::Coerced(t.and_utc().fixed_offset());
            }
        }
        Conv::Invalid("is not an RFC 3339 date-time")
    }

    /// Unix seconds, as some providers send timestamps (GitHub's
    /// `installation.created_at`).
    fn from_i64(v: i64) -> Conv<Self> {
        chrono::DateTime::from_timestamp(v, 0)
            .map_or(Conv::Invalid("is out of range for Unix seconds"), |t| {
                Conv::Coerced(t.fixed_offset())
            })
    }

    fn from_u64(v: u64) -> Conv<Self> {
        i64::try_from(v).map_or(
            Conv::Invalid("is out of range for Unix seconds"),
            Self::from_i64,
        )
    }
}

impl Scalar for Date {
    const EXPECTED: &'static str = "date string";
    const RUST: &'static str = "Date";
    fn from_str(v: &str) -> Conv<Self> {
        v.parse::<Date>()
            .map_or(Conv::Invalid("is not a YYYY-MM-DD date"), Conv::Exact)
    }
}

impl Scalar for Uuid {
    const EXPECTED: &'static str = "uuid string";
    const RUST: &'static str = "Uuid";
    fn from_str(v: &str) -> Conv<Self> {
        Uuid::parse_str(v).map_or(Conv::Invalid("is not a UUID"), Conv::Exact)
    }
}

macro_rules! format_decode {
    ($($t:ty),*) => {$(
        impl Decode for $t {
            fn decode<'de, D: Deserializer<'de>>(de: D, cx: &mut Cx) -> Decoding<Self, D::Error> {
                scalar(de, cx)
            }
        }
    )*};
}

format_decode!(DateTime, Date, Uuid);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode;

    #[test]
    fn date_time_keeps_offset_and_round_trips() {
        let d = decode::<DateTime>(br#""2024-02-29T12:30:00+02:00""#).unwrap();
        assert_eq!(d.value.offset().local_minus_utc(), 7200);
        assert_eq!(
            serde_json::to_string(&d.value).unwrap(),
            r#""2024-02-29T12:30:00+02:00""#
        );
    }

    #[test]
    fn malformed_formats_are_misfits() {
        assert!(decode::<DateTime>(br#""yesterday""#).is_err());
        // Unix seconds and SQL-style times decode, as drift.
        let unix = decode::<DateTime>(b"1524688930").unwrap();
        assert_eq!(unix.value.to_rfc3339(), "2018-04-25T20:42:10+00:00");
        assert_eq!(unix.drift.len(), 1);
        let sql = decode::<DateTime>(br#""2018-04-25 20:42:10""#).unwrap();
        assert_eq!(sql.value, unix.value);
        assert_eq!(sql.drift.len(), 1);
        let offset = decode::<DateTime>(br#""2018-04-25 22:42:10+02:00""#).unwrap();
        assert_eq!(offset.value, unix.value);
        assert!(decode::<DateTime>(br#""2018-04-25""#).is_err());
        assert!(decode::<Date>(br#""2024-13-01""#).is_err());
        assert!(decode::<Uuid>(br#""not-a-uuid""#).is_err());
        assert!(decode::<Uuid>(br#""67e55044-10b1-426f-9247-bb680e5fe0c8""#).is_ok());
    }
}
