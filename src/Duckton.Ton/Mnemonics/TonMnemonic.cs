using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using Duckton.Core.Crypto;

namespace Duckton.Ton.Mnemonics;

/// <summary>A mnemonic that is not a valid TON mnemonic. The message names the position, never the words.</summary>
public sealed class TonMnemonicException : Exception
{
    public TonMnemonicException(string message) : base(message)
    {
    }
}

/// <summary>
/// TON's standard mnemonic → key derivation (as tonlib and @ton/crypto do it): entropy = HMAC-SHA512(key = the words
/// joined by spaces, message = password); a password-less mnemonic is valid when PBKDF2-SHA512(entropy, "TON seed
/// version", 390 rounds) starts with a zero byte; the Ed25519 seed is the first 32 bytes of PBKDF2-SHA512(entropy,
/// "TON default seed", 100 000 rounds). Words come from the BIP-39 English list.
/// </summary>
public static class TonMnemonic
{
    private const int Iterations = 100_000;
    private static readonly Lazy<string[]> s_words = new(LoadWords);
    private static readonly Lazy<HashSet<string>> s_set = new(() => new HashSet<string>(s_words.Value, StringComparer.Ordinal));

    public static IReadOnlyList<string> WordList => s_words.Value;

    /// <summary>Splits on whitespace and lower-cases; the usual way a mnemonic arrives from a file.</summary>
    public static IReadOnlyList<string> Split(string phrase)
    {
        ArgumentNullException.ThrowIfNull(phrase);
        return phrase.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(w => w.ToLowerInvariant()).ToArray();
    }

    /// <summary>Throws <see cref="TonMnemonicException"/> unless the words form a valid password-less TON mnemonic.</summary>
    public static void Validate(IReadOnlyList<string> words)
    {
        var normalized = Normalize(words);
        var entropy = Entropy(normalized);
        try
        {
            var check = Rfc2898DeriveBytes.Pbkdf2(entropy, Encoding.UTF8.GetBytes("TON seed version"), Math.Max(1, Iterations / 256), HashAlgorithmName.SHA512, 64);
            if (check[0] != 0)
            {
                throw new TonMnemonicException("the words are all in the list but do not form a valid TON mnemonic (checksum failed)");
            }
        }
        finally
        {
            CryptographicOperations.ZeroMemory(entropy);
        }
    }

    /// <summary>The 32-byte Ed25519 seed. The caller owns (and should zero) the returned buffer.</summary>
    public static byte[] ToSeed(IReadOnlyList<string> words)
    {
        Validate(words);
        var entropy = Entropy(Normalize(words));
        try
        {
            var full = Rfc2898DeriveBytes.Pbkdf2(entropy, Encoding.UTF8.GetBytes("TON default seed"), Iterations, HashAlgorithmName.SHA512, 64);
            var seed = full[..32];
            CryptographicOperations.ZeroMemory(full);
            return seed;
        }
        finally
        {
            CryptographicOperations.ZeroMemory(entropy);
        }
    }

    public static Ed25519Key ToKey(IReadOnlyList<string> words)
    {
        var seed = ToSeed(words);
        try
        {
            return Ed25519Key.FromSeed(seed);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(seed);
        }
    }

    /// <summary>A fresh random valid mnemonic (24 words).</summary>
    public static string[] Generate()
    {
        var list = s_words.Value;
        while (true)
        {
            var words = new string[24];
            for (var i = 0; i < words.Length; i++)
            {
                words[i] = list[RandomNumberGenerator.GetInt32(list.Length)];
            }
            try
            {
                Validate(words);
                return words;
            }
            catch (TonMnemonicException)
            {
                // About 1 in 256 random phrases passes; try again.
            }
        }
    }

    internal static byte[] Entropy(IReadOnlyList<string> normalized)
    {
        var phrase = Encoding.UTF8.GetBytes(string.Join(' ', normalized));
        try
        {
            return HMACSHA512.HashData(phrase, ReadOnlySpan<byte>.Empty);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(phrase);
        }
    }

    private static string[] Normalize(IReadOnlyList<string> words)
    {
        ArgumentNullException.ThrowIfNull(words);
        if (words.Count != 24)
        {
            throw new TonMnemonicException($"a TON mnemonic has 24 words, got {words.Count}");
        }
        var set = s_set.Value;
        var normalized = new string[words.Count];
        for (var i = 0; i < words.Count; i++)
        {
            var w = (words[i] ?? "").Trim().ToLowerInvariant();
            if (!set.Contains(w))
            {
                throw new TonMnemonicException($"word {i + 1} of {words.Count} is not in the BIP-39 English word list");
            }
            normalized[i] = w;
        }
        return normalized;
    }

    private static string[] LoadWords()
    {
        using var stream = Assembly.GetExecutingAssembly().GetManifestResourceStream("Duckton.Ton.wordlist-english.txt")
            ?? throw new InvalidOperationException("embedded word list missing");
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var words = reader.ReadToEnd().Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (words.Length != 2048)
        {
            throw new InvalidOperationException($"embedded word list has {words.Length} words, expected 2048");
        }
        return words;
    }
}
