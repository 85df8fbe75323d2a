"""The processing register (GDPR art. 30) as versioned data: activities, purposes, legal bases."""
