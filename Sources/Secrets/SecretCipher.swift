import CCrypto

/// AES-256-GCM through libcrypto's EVP interface: a fresh 96-bit nonce for every seal, a 128-bit
/// tag, and associated data that the tag covers.
///
/// Sealed form: `nonce (12) ‖ ciphertext ‖ tag (16)`.
public enum SecretCipher {
    /// Key length in bytes.
    public static let keyBytes = 32
    /// Nonce length in bytes.
    public static let nonceBytes = 12
    /// Tag length in bytes.
    public static let tagBytes = 16

    /// `count` bytes from the system's CSPRNG.
    /// - Throws: ``SecretsError`` `key-invalid` when `RAND_bytes` fails.
    public static func randomBytes(_ count: Int) throws(SecretsError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        guard RAND_bytes(&bytes, Int32(count)) == 1 else { throw SecretsError(.keyInvalid, "RAND_bytes failed") }
        return bytes
    }

    /// Encrypts and authenticates `plaintext` with `aad`.
    /// - Throws: ``SecretsError`` `key-invalid` for a wrong key length or a libcrypto failure.
    public static func seal(_ plaintext: [UInt8], key: [UInt8], aad: [UInt8]) throws(SecretsError) -> [UInt8] {
        guard key.count == keyBytes else {
            throw SecretsError(.keyInvalid, "an AES-256 key has \(keyBytes) bytes, not \(key.count)")
        }
        let nonce = try randomBytes(nonceBytes)
        guard let context = EVP_CIPHER_CTX_new() else { throw SecretsError(.keyInvalid, "EVP_CIPHER_CTX_new failed") }
        defer { EVP_CIPHER_CTX_free(context) }
        var out = [UInt8](repeating: 0, count: plaintext.count + 16)
        var length: Int32 = 0
        var total = 0
        var tag = [UInt8](repeating: 0, count: tagBytes)
        let ok =
            EVP_EncryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1
            && (aad.isEmpty || EVP_EncryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1)
            && EVP_EncryptUpdate(context, &out, &length, plaintext, Int32(plaintext.count)) == 1
        guard ok else { throw SecretsError(.keyInvalid, "AES-256-GCM encryption failed") }
        total = Int(length)
        let finished = out.withUnsafeMutableBufferPointer { buffer in
            EVP_EncryptFinal_ex(context, buffer.baseAddress.map { $0 + total }, &length) == 1
        }
        guard finished, EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_GET_TAG, Int32(tagBytes), &tag) == 1 else {
            throw SecretsError(.keyInvalid, "AES-256-GCM encryption failed")
        }
        total += Int(length)
        return nonce + out.prefix(total) + tag
    }

    /// Checks and decrypts a sealed value; `nil` when it fails authentication (wrong key, wrong
    /// associated data, or any changed byte).
    public static func open(_ sealed: [UInt8], key: [UInt8], aad: [UInt8]) -> [UInt8]? {
        guard key.count == keyBytes, sealed.count >= nonceBytes + tagBytes,
            let context = EVP_CIPHER_CTX_new()
        else { return nil }
        defer { EVP_CIPHER_CTX_free(context) }
        let nonce = Array(sealed.prefix(nonceBytes))
        var tag = Array(sealed.suffix(tagBytes))
        let ciphertext = Array(sealed[nonceBytes..<(sealed.count - tagBytes)])
        var out = [UInt8](repeating: 0, count: ciphertext.count + 16)
        var length: Int32 = 0
        let ok =
            EVP_DecryptInit_ex(context, EVP_aes_256_gcm(), nil, key, nonce) == 1
            && (aad.isEmpty || EVP_DecryptUpdate(context, nil, &length, aad, Int32(aad.count)) == 1)
            && EVP_DecryptUpdate(context, &out, &length, ciphertext, Int32(ciphertext.count)) == 1
            && EVP_CIPHER_CTX_ctrl(context, EVP_CTRL_AEAD_SET_TAG, Int32(tagBytes), &tag) == 1
        guard ok else { return nil }
        let total = Int(length)
        let verified = out.withUnsafeMutableBufferPointer { buffer in
            EVP_DecryptFinal_ex(context, buffer.baseAddress.map { $0 + total }, &length) == 1
        }
        return verified ? Array(out.prefix(total)) : nil
    }
}
