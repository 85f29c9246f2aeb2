package state

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/spawn-go/spawn/protocol"
)

// keySize is the AES-256 key length.
const keySize = 32

// KeyFromEnv returns the key in SPAWN_STATESTORE_KEY, ready for WithKey:
// 32 random bytes in standard base64, as the real proxy reads it. An unset
// or empty variable gives a nil key and no error: the store then writes
// state unencrypted.
func KeyFromEnv() ([]byte, error) {
	v := strings.TrimSpace(os.Getenv(protocol.EnvStateKey))
	if v == "" {
		return nil, nil
	}
	// The messages never quote the value: it is a secret.
	key, err := base64.StdEncoding.DecodeString(v)
	if err != nil {
		return nil, fmt.Errorf("state: %s is not valid standard base64 (%v); generate a key with: openssl rand -base64 32", protocol.EnvStateKey, err)
	}
	if len(key) != keySize {
		return nil, fmt.Errorf("state: %s decodes to %d bytes, want %d; generate a key with: openssl rand -base64 32", protocol.EnvStateKey, len(key), keySize)
	}
	return key, nil
}

// newAEAD returns AES-256-GCM for key.
func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != keySize {
		return nil, fmt.Errorf("state: encryption key is %d bytes, want %d (AES-256); generate one with: openssl rand -base64 32", len(key), keySize)
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("state: %w", err)
	}
	return cipher.NewGCM(block)
}

// seal encrypts plaintext under a fresh random nonce and returns
// nonce || ciphertext. The additional data binds the result to where it is
// stored, so that a record moved to another key or revision fails to open.
func seal(aead cipher.AEAD, plaintext, additional []byte) []byte {
	nonce := make([]byte, aead.NonceSize(), aead.NonceSize()+len(plaintext)+aead.Overhead())
	// crypto/rand.Read never fails; it crashes the program if it cannot.
	rand.Read(nonce)
	return aead.Seal(nonce, nonce, plaintext, additional)
}

var errDecrypt = errors.New("wrong key, or the data was modified")

// unseal reverses seal.
func unseal(aead cipher.AEAD, sealed, additional []byte) ([]byte, error) {
	if len(sealed) < aead.NonceSize()+aead.Overhead() {
		return nil, errDecrypt
	}
	nonce, ciphertext := sealed[:aead.NonceSize()], sealed[aead.NonceSize():]
	plaintext, err := aead.Open(nil, nonce, ciphertext, additional)
	if err != nil {
		return nil, errDecrypt
	}
	return plaintext, nil
}
