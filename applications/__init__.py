"""The applicant's side of the domain: attachments and their rules, the credit authoriser, the documents to print."""
