//! Placeholder until the WebDriver tests land.
