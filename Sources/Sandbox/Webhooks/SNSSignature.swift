import ProviderCrypto
import ProviderModel

/// How SNS signs a message: `Key\nValue\n` for each present key, in the documented order, signed
/// SHA1withRSA (SignatureVersion "1") or SHA256withRSA ("2"), base64
/// (docs.aws.amazon.com/sns/latest/dg/sns-verify-signature-of-message.html). The sandbox, the webhook
/// benchmark and the receiver's tests all sign with it.
public enum SNSSignature {
    public static func sign(_ fields: [(String, String)], key: RSAPrivateKey, version: String) -> String {
        var text: [UInt8] = []
        for (name, value) in fields {
            text.append(contentsOf: name.utf8)
            text.append(0x0A)
            text.append(contentsOf: value.utf8)
            text.append(0x0A)
        }
        return Encoding.base64(key.sign(text, digest: version == "2" ? .sha256 : .sha1) ?? [])
    }
}
