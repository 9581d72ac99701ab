import CustosDomain
import CustosStorage
import Foundation
import MerkleLog

/// The shared requester blocklist (issue 8): what this installation signs and hands out, and the
/// feeds it takes from other installations, each checked against a verifier key given by hand.
extension CustosServices {
    /// This installation's feed: its own entries plus the addresses of blocklisted requesters,
    /// as a signed note; `hashed` shares only SHA-256s.
    public func exportBlocklist(hashed: Bool) async throws -> String {
        var entries = Set(try await blocklist.localEntries())
        for principal in try await identity.principals(standing: .blocklisted) {
            entries.insert(BlocklistEntry(kind: .address, value: principal.email))
        }
        let text = BlocklistFeed.noteText(origin: transparencyKeys.blocklist.name, issuedAt: now(), entries: entries, hashed: hashed)
        return try transparencyKeys.blocklist.sign(text).serialized
    }

    public struct BlocklistImportError: Error, CustomStringConvertible {
        public let description: String
    }

    /// Takes another installation's feed when its signature verifies with `verifierKey` (which the
    /// operator got from that installation by a channel they trust); its entries replace those of
    /// the same key's earlier feed. Returns the feed's origin and entry count.
    public func importBlocklist(note text: String, verifierKey: String) async throws -> (origin: String, entries: Int) {
        let verifier: any NoteVerifier
        do { verifier = try NoteKey.verifier(verifierKey) } catch { throw BlocklistImportError(description: "the verifier key is not a C2SP verifier key: \(error)") }
        guard verifier.name != transparencyKeys.blocklist.name else {
            throw BlocklistImportError(description: "that is this installation's own key; a feed is imported from another installation")
        }
        let note: SignedNote
        do {
            note = try SignedNote(parsing: text)
            _ = try note.verify(with: [verifier])
        } catch {
            throw BlocklistImportError(description: "the feed's signature does not verify with \(verifier.name): \(error)")
        }
        let feed: (origin: String, issuedAt: Date, entries: [BlocklistEntry])
        do { feed = try BlocklistFeed.parse(note.text) } catch { throw BlocklistImportError(description: "not a blocklist feed: \(error)") }
        guard feed.origin == verifier.name else {
            throw BlocklistImportError(description: "the feed names \(feed.origin) as its origin but is signed by \(verifier.name)")
        }
        try await blocklist.replaceFeed(source: verifier.name, entries: feed.entries, issuedAt: feed.issuedAt, by: "cli", at: now())
        return (verifier.name, Set(feed.entries).count)
    }
}
