//! The figures of the events specification: their stored names and which
//! are sums of money and which are counts.

use fdi_proto::common::{Figure, Scope};

use crate::domain;

/// Every figure, in the order of the specification.
pub const ALL: [Figure; 9] = [
    Figure::NewProjects,
    Figure::NewCapital,
    Figure::AdjustedProjects,
    Figure::AddedCapital,
    Figure::SharePurchases,
    Figure::SharePurchaseCapital,
    Figure::TotalCapital,
    Figure::RealisedCapital,
    Figure::TerminatedProjects,
];

/// The stored (and interchange) name of a figure; `None` for unspecified.
#[must_use]
pub fn name(figure: Figure) -> Option<&'static str> {
    Some(match figure {
        Figure::Unspecified => return None,
        Figure::NewProjects => "new_projects",
        Figure::NewCapital => "new_capital",
        Figure::AdjustedProjects => "adjusted_projects",
        Figure::AddedCapital => "added_capital",
        Figure::SharePurchases => "share_purchases",
        Figure::SharePurchaseCapital => "share_purchase_capital",
        Figure::TotalCapital => "total_capital",
        Figure::RealisedCapital => "realised_capital",
        Figure::TerminatedProjects => "terminated_projects",
    })
}

/// The figure of a stored name.
#[must_use]
pub fn from_name(text: &str) -> Option<Figure> {
    ALL.into_iter().find(|figure| name(*figure) == Some(text))
}

/// Whether the figure is a sum of money (else a count).
#[must_use]
pub fn is_money(figure: Figure) -> bool {
    matches!(
        figure,
        Figure::NewCapital
            | Figure::AddedCapital
            | Figure::SharePurchaseCapital
            | Figure::TotalCapital
            | Figure::RealisedCapital
    )
}

/// The stored name of a scope (`all` for unspecified).
#[must_use]
pub fn scope_name(scope: Scope) -> &'static str {
    domain::Scope::try_from(scope).map_or("all", domain::Scope::as_str)
}

/// The scope of a stored name.
#[must_use]
pub fn scope_from_name(text: &str) -> Scope {
    domain::Scope::parse(text).map_or(Scope::All, Scope::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for figure in ALL {
            assert_eq!(from_name(name(figure).unwrap()), Some(figure));
        }
        assert_eq!(name(Figure::Unspecified), None);
        assert_eq!(ALL.iter().filter(|f| is_money(**f)).count(), 5);
        assert_eq!(scope_from_name(scope_name(Scope::Ddi)), Scope::Ddi);
    }
}
