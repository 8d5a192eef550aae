"""Operations: backup, verification and restore of a walletflow database."""
