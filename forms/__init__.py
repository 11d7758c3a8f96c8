"""What applicants fill in: forms per programme and applicant kind, and their field validators."""
