# The audit trail and the jobs, taken over from the units app with their tables as they are.

import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    initial = True

    dependencies = [
        ('contenttypes', '0002_remove_content_type_name'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ('units', '0003_audit_and_jobs_move_to_core'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name='AuditEntry',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('at', models.DateTimeField(auto_now_add=True, db_index=True, verbose_name='时间')),
                        ('actor_name', models.CharField(blank=True, max_length=150, verbose_name='操作人')),
                        ('action', models.CharField(choices=[('create', '新建'), ('update', '修改'), ('deactivate', '停用'), ('activate', '启用'), ('delete', '删除'), ('import', '导入'), ('export', '导出'), ('transition', '流转'), ('login', '登录'), ('login_failed', '登录失败'), ('logout', '退出'), ('password', '修改密码')], max_length=20, verbose_name='操作')),
                        ('object_id', models.CharField(blank=True, max_length=64)),
                        ('object_repr', models.CharField(blank=True, max_length=300, verbose_name='对象')),
                        ('changes', models.JSONField(blank=True, default=dict, verbose_name='变更内容')),
                        ('ip', models.GenericIPAddressField(blank=True, null=True, verbose_name='来源地址')),
                        ('note', models.TextField(blank=True, verbose_name='说明')),
                        ('actor', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='操作人')),
                        ('content_type', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, to='contenttypes.contenttype')),
                    ],
                    options={
                        'verbose_name': '操作日志',
                        'verbose_name_plural': '操作日志',
                        'ordering': ['-at', '-id'],
                        'indexes': [models.Index(fields=['content_type', 'object_id'], name='audit_object_idx')],
                        'db_table': 'units_auditentry',
                    },
                ),
                migrations.CreateModel(
                    name='Job',
                    fields=[
                        ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                        ('kind', models.CharField(choices=[('units', '单位名册'), ('users', '人员名册'), ('ledger', '问题台账')], max_length=16, verbose_name='导入类型')),
                        ('file', models.FileField(upload_to='imports/%Y/%m/', verbose_name='文件')),
                        ('original_name', models.CharField(max_length=255, verbose_name='原文件名')),
                        ('created_at', models.DateTimeField(auto_now_add=True, verbose_name='上传时间')),
                        ('finished_at', models.DateTimeField(blank=True, null=True, verbose_name='完成时间')),
                        ('status', models.CharField(choices=[('uploaded', '已上传'), ('previewing', '预检中'), ('previewed', '待确认'), ('applying', '导入中'), ('done', '已完成'), ('failed', '失败')], default='uploaded', max_length=16, verbose_name='状态')),
                        ('progress', models.PositiveSmallIntegerField(default=0, validators=[django.core.validators.MaxValueValidator(100)], verbose_name='进度（%）')),
                        ('total_rows', models.PositiveIntegerField(default=0, verbose_name='行数')),
                        ('report', models.JSONField(blank=True, default=dict, verbose_name='预检与导入结果')),
                        ('error', models.TextField(blank=True, verbose_name='错误信息')),
                        ('options', models.JSONField(blank=True, default=dict, verbose_name='导入参数')),
                        ('uploaded_by', models.ForeignKey(null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='import_jobs', to=settings.AUTH_USER_MODEL, verbose_name='上传人')),
                    ],
                    options={
                        'verbose_name': '导入任务',
                        'verbose_name_plural': '导入任务',
                        'ordering': ['-created_at', '-id'],
                        'db_table': 'units_importjob',
                    },
                ),
            ],
            database_operations=[],
        ),
        migrations.RenameField(model_name='job', old_name='uploaded_by', new_name='owner'),
    ]
