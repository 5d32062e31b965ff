/// Version 23: recipients' pages are filled to 40 %, not half (version 20), so that the send's new version of every
/// row fits on its page beside the old one. A send's new version is larger than the waiting row it replaces: it
/// gains the provider's message id (36 bytes for Resend's and Telnyx's, more for SES's) and `sent_at`, about a
/// third more than a 140-byte row. At half-full pages about a fifth of the sends found no room on their page
/// (148,184 of 190,400 updates HOT in a 200,000-recipient Resend batch), and each of those wrote a new entry in
/// the primary key and the unique address index, checking the address for uniqueness again. Only pages written
/// after the migration are filled to the new mark; the table's existing pages keep theirs. In psql, 400,000
/// recipients took 120 MB of heap against 104 at half-full pages.
enum RecipientPageRoom {
    static let migration = Migration(version: 23, name: "recipients' pages filled to 40 %", sql: """
        ALTER TABLE recipients SET (fillfactor = 40);
        """)
}
