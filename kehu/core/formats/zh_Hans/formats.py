"""Number formats for Simplified Chinese that override Django's: amounts grouped by thousands with a comma
(1,234,567.00), as Chinese invoices, contracts and finance reports write them. Django's own zh_Hans formats
group by ten thousands with no separator at all, which leaves 1234567 unreadable in a report."""

THOUSAND_SEPARATOR = ","
NUMBER_GROUPING = 3
