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
        DateTime::parse_from_rfc3339(v)
            .map_or(Conv::Invalid("is not an RFC 3339 date-time"), Conv::Exact)
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
        assert!(decode::<Date>(br#""2024-13-01""#).is_err());
        assert!(decode::<Uuid>(br#""not-a-uuid""#).is_err());
        assert!(decode::<Uuid>(br#""67e55044-10b1-426f-9247-bb680e5fe0c8""#).is_ok());
    }
}
