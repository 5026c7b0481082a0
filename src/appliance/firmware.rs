//! A device's firmware as the cloud tells it (`EVENT_APC_WIFI_VERSION` for cookers,
//! `EVENT_APO_WIFI_FIRMWARE_UPDATE` for ovens), and the `firmware_update` object of the published
//! state that Home Assistant's `update` entity reads (README "Firmware updates").
//!
//! Only the Anova app can install an update (`CMD_APC_OTA` is not open to a Personal Access
//! Token), so the bridge only reports: what is installed, what is offered, whether the device
//! insists, and the release notes.

use crate::wire::FirmwareVersion;
use serde::Serialize;

/// Home Assistant keeps at most this many characters of an update's `release_summary`.
pub const RELEASE_SUMMARY_MAX: usize = 255;

/// What the cloud last said about a device's firmware.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Firmware {
    /// The installed version, as the firmware event words it.
    pub installed: Option<String>,
    /// The update the cloud offers; `None` when it offers none.
    pub offer: Option<Offer>,
}

/// An update the cloud offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    /// The offered version.
    pub version: String,
    /// The device insists on it.
    pub required: Option<bool>,
    /// The release notes, as the cloud words them.
    pub notes: Option<String>,
    /// Where the firmware image is.
    pub image_url: Option<String>,
}

/// A text field of the wire: trimmed, `None` when empty.
fn text(value: Option<&String>) -> Option<String> {
    value
        .map(|v| v.trim())
        .filter(|v| !v.is_empty())
        .map(str::to_owned)
}

impl Firmware {
    /// From one firmware event entry. An `ota` block offers its version unless it says
    /// `available: false` or names no version.
    pub fn from_wire(wire: &FirmwareVersion) -> Self {
        let offer = wire.ota.as_ref().and_then(|ota| {
            if ota.available == Some(false) {
                return None;
            }
            Some(Offer {
                version: text(ota.version.as_ref())?,
                required: ota.required,
                notes: text(ota.description.as_ref()),
                image_url: text(ota.url.as_ref()),
            })
        });
        Self {
            installed: text(wire.version.as_ref()),
            offer,
        }
    }
}

/// The `firmware_update` object of a device's published state: what Home Assistant's `update` entity
/// reads (its keys are the ones that entity takes from a JSON state), plus `update_available`,
/// `required` and `image_url` for other consumers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Update {
    /// The version the device runs: the state's `firmware`, or the firmware event's when the
    /// state names none or words it differently from the event.
    pub installed_version: Option<String>,
    /// The newest version: the offered one, the installed one when the cloud said it offers
    /// none, `null` while the cloud has said nothing.
    pub latest_version: Option<String>,
    /// `true` when an update is offered that is not installed; `null` while unknown.
    pub update_available: Option<bool>,
    /// The device insists on the update.
    pub required: Option<bool>,
    /// The release notes (at most [`RELEASE_SUMMARY_MAX`] characters, without the link).
    pub release_summary: Option<String>,
    /// The release notes' link, when the notes carry one.
    pub release_url: Option<String>,
    /// Where the firmware image is.
    pub image_url: Option<String>,
}

impl Update {
    /// What to publish for a device whose state reports `reported` as its firmware and whose
    /// cloud said `firmware` (`None`: nothing yet).
    pub fn of(reported: Option<&str>, firmware: Option<&Firmware>) -> Self {
        let reported = reported.map(str::trim).filter(|r| !r.is_empty());
        let Some(firmware) = firmware else {
            return Self {
                installed_version: reported.map(str::to_owned),
                ..Self::default()
            };
        };
        let offered = firmware.offer.as_ref().map(|o| o.version.as_str());
        // The state is the live truth, but it may word the version differently from the
        // firmware event (then comparing it with the offer would always show an update): it
        // is taken when it is the event's version or the offered one (installed since).
        let installed = match (reported, firmware.installed.as_deref()) {
            (Some(r), Some(e)) if r != e && Some(r) != offered => Some(e),
            (Some(r), _) => Some(r),
            (None, e) => e,
        };
        let Some(offer) = &firmware.offer else {
            return Self {
                installed_version: installed.map(str::to_owned),
                latest_version: installed.map(str::to_owned),
                update_available: Some(false),
                ..Self::default()
            };
        };
        let (release_summary, release_url) = notes(offer.notes.as_deref());
        Self {
            installed_version: installed.map(str::to_owned),
            latest_version: Some(offer.version.clone()),
            update_available: Some(installed != Some(offer.version.as_str())),
            required: offer.required,
            release_summary,
            release_url,
            image_url: offer.image_url.clone(),
        }
    }
}

/// Release notes as a summary and a link: the first `http(s)://` word is the link (the
/// cloud's notes end with one), the rest the summary, cut to [`RELEASE_SUMMARY_MAX`]
/// characters.
fn notes(notes: Option<&str>) -> (Option<String>, Option<String>) {
    let Some(notes) = notes else {
        return (None, None);
    };
    let url = notes
        .split_whitespace()
        .find(|w| w.starts_with("https://") || w.starts_with("http://"));
    let summary: String = match url {
        Some(url) => notes
            .split_whitespace()
            .filter(|w| *w != url)
            .collect::<Vec<_>>()
            .join(" "),
        None => notes.split_whitespace().collect::<Vec<_>>().join(" "),
    };
    let summary = match summary.char_indices().nth(RELEASE_SUMMARY_MAX) {
        Some((cut, _)) => summary[..cut].to_owned(),
        None => summary,
    };
    (
        Some(summary).filter(|s| !s.is_empty()),
        url.map(str::to_owned),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Event;

    const CAPTURE: &str = include_str!(
        "../../tests/fixtures/anova-messages/EVENT_APO_WIFI_FIRMWARE_UPDATE.oven_v1.real.json"
    );

    fn captured() -> Firmware {
        match Event::parse(CAPTURE) {
            Ok(Event::ApoWifiFirmwareUpdate(wire)) => Firmware::from_wire(&wire),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_captured_offer_is_an_update_from_2_1_7_to_2_1_8_with_its_notes() {
        let firmware = captured();
        assert_eq!(firmware.installed.as_deref(), Some("2.1.7"));
        let update = Update::of(Some("2.1.7"), Some(&firmware));
        assert_eq!(update.installed_version.as_deref(), Some("2.1.7"));
        assert_eq!(update.latest_version.as_deref(), Some("2.1.8"));
        assert_eq!(update.update_available, Some(true));
        assert_eq!(update.required, Some(false));
        assert_eq!(
            update.release_summary.as_deref(),
            Some("2.1.8 - Prevent cooks when idle or NTC broken")
        );
        assert!(update
            .release_url
            .as_deref()
            .is_some_and(|u| u.starts_with("https://www.notion.so/anovaculinary/2-1-8-")));
        assert_eq!(
            update.image_url.as_deref(),
            Some("https://storage.googleapis.com/anova-app.appspot.com/oven-firmware/oven-controller-2.1.8.bin")
        );
    }

    #[test]
    fn installed_comes_from_the_state_unless_it_is_worded_differently() {
        let firmware = captured();
        // Installed since: the state says the offered version.
        let done = Update::of(Some("2.1.8"), Some(&firmware));
        assert_eq!(done.installed_version.as_deref(), Some("2.1.8"));
        assert_eq!(done.update_available, Some(false));
        // A state that words it otherwise: the event's version.
        let other = Update::of(Some("oven 2.1.7 build 3"), Some(&firmware));
        assert_eq!(other.installed_version.as_deref(), Some("2.1.7"));
        // No state firmware: the event's.
        assert_eq!(
            Update::of(None, Some(&firmware))
                .installed_version
                .as_deref(),
            Some("2.1.7")
        );
    }

    #[test]
    fn no_offer_is_up_to_date_and_no_word_is_unknown() {
        let none = Firmware {
            installed: Some("2.1.7".into()),
            offer: None,
        };
        let update = Update::of(Some("2.1.7"), Some(&none));
        assert_eq!(update.latest_version.as_deref(), Some("2.1.7"));
        assert_eq!(update.update_available, Some(false));
        let unknown = Update::of(Some("2.1.7"), None);
        assert_eq!(unknown.installed_version.as_deref(), Some("2.1.7"));
        assert_eq!(unknown.latest_version, None);
        assert_eq!(unknown.update_available, None);
        // `available: false` offers nothing.
        let wire: FirmwareVersion = serde_json::from_str(
            r#"{"cookerId":"x","version":"1","ota":{"available":false,"version":"2"}}"#,
        )
        .unwrap();
        assert_eq!(Firmware::from_wire(&wire).offer, None);
    }

    #[test]
    fn long_notes_are_cut_for_home_assistant_on_a_character_boundary() {
        let long = "é".repeat(400);
        let (summary, url) = notes(Some(&long));
        assert_eq!(
            summary.map(|s| s.chars().count()),
            Some(RELEASE_SUMMARY_MAX)
        );
        assert_eq!(url, None);
    }
}
