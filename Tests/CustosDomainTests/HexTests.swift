import CustosDomain
import Foundation
import Testing

@Suite struct HexTests {
    @Test func encodesLowerCaseAndRoundTrips() {
        #expect(Hex.encode([0x00, 0x0f, 0xa0, 0xff]) == "000fa0ff")
        #expect(Hex.encode([UInt8]()) == "")
        let bytes = Data((0...255).map { UInt8($0) })
        #expect(Hex.decode(Hex.encode(bytes)) == bytes)
        #expect(Hex.decode("00FFaB") == Data([0x00, 0xff, 0xab]))
    }

    @Test(arguments: ["0", "zz", "0g", "abc"])
    func refusesWhatIsNotHex(text: String) {
        #expect(Hex.decode(text) == nil)
    }
}
