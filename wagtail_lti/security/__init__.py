"""Security rules shared by every flow: keys, encryption, identifiers, exports."""
