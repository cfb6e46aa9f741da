"""Existing revisions of LTI providers: remove the encrypted secret, client ID and deployment ID.

Revisions no longer store them (``LtiProvider.serializable_data``) nor restore them
(``LtiProvider.with_content_json``); this removes those kept by earlier versions, so that no
rotated secret stays in the database.
"""

from django.db import migrations

FIELDS = ("secret_encrypted", "client_id", "deployment_id")


def strip_credentials(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Revision = apps.get_model("wagtailcore", "Revision")
    content_type = ContentType.objects.filter(app_label="wagtail_lti", model="ltiprovider").first()
    if content_type is None:
        return
    revisions = Revision.objects.filter(base_content_type_id=content_type.pk)
    for revision in revisions.iterator(chunk_size=500):
        content = revision.content
        if isinstance(content, dict) and any(name in content for name in FIELDS):
            for name in FIELDS:
                content.pop(name, None)
            Revision.objects.filter(pk=revision.pk).update(content=content)


class Migration(migrations.Migration):
    dependencies = [
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0094_alter_page_locale"),
        ("wagtail_lti", "0004_launchlogentry_organization"),
    ]

    operations = [
        migrations.RunPython(strip_credentials, migrations.RunPython.noop, elidable=True),
    ]
